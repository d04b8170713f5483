/**
 * The shapes of Amazon SQS's query protocol (API version 2012-11-05), as the botocore service model Debian ships with
 * the AWS CLI 2.9 and boto3 1.26 defines them (`botocore/data/sqs/2012-11-05/service-2.json`, Apache-2.0), reduced to
 * what the translation in sqs-query.ts reads: each operation's input and output shape, and for each shape its type,
 * members with their XML/form names (`locationName`) and `flattened` flags, and an error's query-protocol code.
 * Generated from that file with the documentation left out; regenerate rather than edit by hand.
 */
import type { QueryModel } from './sqs-query.ts';

export const SQS_QUERY_MODEL: QueryModel = {
  operations: {
    AddPermission: { input: 'AddPermissionRequest' },
    ChangeMessageVisibility: { input: 'ChangeMessageVisibilityRequest' },
    ChangeMessageVisibilityBatch: {
      input: 'ChangeMessageVisibilityBatchRequest',
      output: 'ChangeMessageVisibilityBatchResult',
      resultWrapper: 'ChangeMessageVisibilityBatchResult',
    },
    CreateQueue: { input: 'CreateQueueRequest', output: 'CreateQueueResult', resultWrapper: 'CreateQueueResult' },
    DeleteMessage: { input: 'DeleteMessageRequest' },
    DeleteMessageBatch: {
      input: 'DeleteMessageBatchRequest',
      output: 'DeleteMessageBatchResult',
      resultWrapper: 'DeleteMessageBatchResult',
    },
    DeleteQueue: { input: 'DeleteQueueRequest' },
    GetQueueAttributes: {
      input: 'GetQueueAttributesRequest',
      output: 'GetQueueAttributesResult',
      resultWrapper: 'GetQueueAttributesResult',
    },
    GetQueueUrl: { input: 'GetQueueUrlRequest', output: 'GetQueueUrlResult', resultWrapper: 'GetQueueUrlResult' },
    ListDeadLetterSourceQueues: {
      input: 'ListDeadLetterSourceQueuesRequest',
      output: 'ListDeadLetterSourceQueuesResult',
      resultWrapper: 'ListDeadLetterSourceQueuesResult',
    },
    ListQueueTags: {
      input: 'ListQueueTagsRequest',
      output: 'ListQueueTagsResult',
      resultWrapper: 'ListQueueTagsResult',
    },
    ListQueues: { input: 'ListQueuesRequest', output: 'ListQueuesResult', resultWrapper: 'ListQueuesResult' },
    PurgeQueue: { input: 'PurgeQueueRequest' },
    ReceiveMessage: {
      input: 'ReceiveMessageRequest',
      output: 'ReceiveMessageResult',
      resultWrapper: 'ReceiveMessageResult',
    },
    RemovePermission: { input: 'RemovePermissionRequest' },
    SendMessage: { input: 'SendMessageRequest', output: 'SendMessageResult', resultWrapper: 'SendMessageResult' },
    SendMessageBatch: {
      input: 'SendMessageBatchRequest',
      output: 'SendMessageBatchResult',
      resultWrapper: 'SendMessageBatchResult',
    },
    SetQueueAttributes: { input: 'SetQueueAttributesRequest' },
    TagQueue: { input: 'TagQueueRequest' },
    UntagQueue: { input: 'UntagQueueRequest' },
  },
  shapes: {
    AWSAccountIdList: { type: 'list', flattened: true, member: { shape: 'String', locationName: 'AWSAccountId' } },
    ActionNameList: { type: 'list', flattened: true, member: { shape: 'String', locationName: 'ActionName' } },
    AddPermissionRequest: {
      type: 'structure',
      members: {
        QueueUrl: { shape: 'String' },
        Label: { shape: 'String' },
        AWSAccountIds: { shape: 'AWSAccountIdList' },
        Actions: { shape: 'ActionNameList' },
      },
    },
    AttributeNameList: {
      type: 'list',
      flattened: true,
      member: { shape: 'QueueAttributeName', locationName: 'AttributeName' },
    },
    BatchEntryIdsNotDistinct: {
      type: 'structure',
      members: {},
      errorCode: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
    },
    BatchRequestTooLong: {
      type: 'structure',
      members: {},
      errorCode: 'AWS.SimpleQueueService.BatchRequestTooLong',
    },
    BatchResultErrorEntry: {
      type: 'structure',
      members: {
        Id: { shape: 'String' },
        SenderFault: { shape: 'Boolean' },
        Code: { shape: 'String' },
        Message: { shape: 'String' },
      },
    },
    BatchResultErrorEntryList: {
      type: 'list',
      flattened: true,
      member: { shape: 'BatchResultErrorEntry', locationName: 'BatchResultErrorEntry' },
    },
    Binary: { type: 'blob' },
    BinaryList: { type: 'list', member: { shape: 'Binary', locationName: 'BinaryListValue' } },
    Boolean: { type: 'boolean' },
    BoxedInteger: { type: 'integer' },
    ChangeMessageVisibilityBatchRequest: {
      type: 'structure',
      members: { QueueUrl: { shape: 'String' }, Entries: { shape: 'ChangeMessageVisibilityBatchRequestEntryList' } },
    },
    ChangeMessageVisibilityBatchRequestEntry: {
      type: 'structure',
      members: { Id: { shape: 'String' }, ReceiptHandle: { shape: 'String' }, VisibilityTimeout: { shape: 'Integer' } },
    },
    ChangeMessageVisibilityBatchRequestEntryList: {
      type: 'list',
      flattened: true,
      member: {
        shape: 'ChangeMessageVisibilityBatchRequestEntry',
        locationName: 'ChangeMessageVisibilityBatchRequestEntry',
      },
    },
    ChangeMessageVisibilityBatchResult: {
      type: 'structure',
      members: {
        Successful: { shape: 'ChangeMessageVisibilityBatchResultEntryList' },
        Failed: { shape: 'BatchResultErrorEntryList' },
      },
    },
    ChangeMessageVisibilityBatchResultEntry: { type: 'structure', members: { Id: { shape: 'String' } } },
    ChangeMessageVisibilityBatchResultEntryList: {
      type: 'list',
      flattened: true,
      member: {
        shape: 'ChangeMessageVisibilityBatchResultEntry',
        locationName: 'ChangeMessageVisibilityBatchResultEntry',
      },
    },
    ChangeMessageVisibilityRequest: {
      type: 'structure',
      members: {
        QueueUrl: { shape: 'String' },
        ReceiptHandle: { shape: 'String' },
        VisibilityTimeout: { shape: 'Integer' },
      },
    },
    CreateQueueRequest: {
      type: 'structure',
      members: {
        QueueName: { shape: 'String' },
        Attributes: { shape: 'QueueAttributeMap', locationName: 'Attribute' },
        tags: { shape: 'TagMap', locationName: 'Tag' },
      },
    },
    CreateQueueResult: { type: 'structure', members: { QueueUrl: { shape: 'String' } } },
    DeleteMessageBatchRequest: {
      type: 'structure',
      members: { QueueUrl: { shape: 'String' }, Entries: { shape: 'DeleteMessageBatchRequestEntryList' } },
    },
    DeleteMessageBatchRequestEntry: {
      type: 'structure',
      members: { Id: { shape: 'String' }, ReceiptHandle: { shape: 'String' } },
    },
    DeleteMessageBatchRequestEntryList: {
      type: 'list',
      flattened: true,
      member: { shape: 'DeleteMessageBatchRequestEntry', locationName: 'DeleteMessageBatchRequestEntry' },
    },
    DeleteMessageBatchResult: {
      type: 'structure',
      members: {
        Successful: { shape: 'DeleteMessageBatchResultEntryList' },
        Failed: { shape: 'BatchResultErrorEntryList' },
      },
    },
    DeleteMessageBatchResultEntry: { type: 'structure', members: { Id: { shape: 'String' } } },
    DeleteMessageBatchResultEntryList: {
      type: 'list',
      flattened: true,
      member: { shape: 'DeleteMessageBatchResultEntry', locationName: 'DeleteMessageBatchResultEntry' },
    },
    DeleteMessageRequest: {
      type: 'structure',
      members: { QueueUrl: { shape: 'String' }, ReceiptHandle: { shape: 'String' } },
    },
    DeleteQueueRequest: { type: 'structure', members: { QueueUrl: { shape: 'String' } } },
    EmptyBatchRequest: {
      type: 'structure',
      members: {},
      errorCode: 'AWS.SimpleQueueService.EmptyBatchRequest',
    },
    GetQueueAttributesRequest: {
      type: 'structure',
      members: { QueueUrl: { shape: 'String' }, AttributeNames: { shape: 'AttributeNameList' } },
    },
    GetQueueAttributesResult: {
      type: 'structure',
      members: { Attributes: { shape: 'QueueAttributeMap', locationName: 'Attribute' } },
    },
    GetQueueUrlRequest: {
      type: 'structure',
      members: { QueueName: { shape: 'String' }, QueueOwnerAWSAccountId: { shape: 'String' } },
    },
    GetQueueUrlResult: { type: 'structure', members: { QueueUrl: { shape: 'String' } } },
    Integer: { type: 'integer' },
    InvalidAttributeName: { type: 'structure', members: {} },
    InvalidBatchEntryId: {
      type: 'structure',
      members: {},
      errorCode: 'AWS.SimpleQueueService.InvalidBatchEntryId',
    },
    InvalidIdFormat: { type: 'structure', members: {} },
    InvalidMessageContents: { type: 'structure', members: {} },
    ListDeadLetterSourceQueuesRequest: {
      type: 'structure',
      members: { QueueUrl: { shape: 'String' }, NextToken: { shape: 'Token' }, MaxResults: { shape: 'BoxedInteger' } },
    },
    ListDeadLetterSourceQueuesResult: {
      type: 'structure',
      members: { queueUrls: { shape: 'QueueUrlList' }, NextToken: { shape: 'Token' } },
    },
    ListQueueTagsRequest: { type: 'structure', members: { QueueUrl: { shape: 'String' } } },
    ListQueueTagsResult: { type: 'structure', members: { Tags: { shape: 'TagMap', locationName: 'Tag' } } },
    ListQueuesRequest: {
      type: 'structure',
      members: {
        QueueNamePrefix: { shape: 'String' },
        NextToken: { shape: 'Token' },
        MaxResults: { shape: 'BoxedInteger' },
      },
    },
    ListQueuesResult: {
      type: 'structure',
      members: { QueueUrls: { shape: 'QueueUrlList' }, NextToken: { shape: 'Token' } },
    },
    Message: {
      type: 'structure',
      members: {
        MessageId: { shape: 'String' },
        ReceiptHandle: { shape: 'String' },
        MD5OfBody: { shape: 'String' },
        Body: { shape: 'String' },
        Attributes: { shape: 'MessageSystemAttributeMap', locationName: 'Attribute' },
        MD5OfMessageAttributes: { shape: 'String' },
        MessageAttributes: { shape: 'MessageBodyAttributeMap', locationName: 'MessageAttribute' },
      },
    },
    MessageAttributeName: { type: 'string' },
    MessageAttributeNameList: {
      type: 'list',
      flattened: true,
      member: { shape: 'MessageAttributeName', locationName: 'MessageAttributeName' },
    },
    MessageAttributeValue: {
      type: 'structure',
      members: {
        StringValue: { shape: 'String' },
        BinaryValue: { shape: 'Binary' },
        StringListValues: { shape: 'StringList', locationName: 'StringListValue', flattened: true },
        BinaryListValues: { shape: 'BinaryList', locationName: 'BinaryListValue', flattened: true },
        DataType: { shape: 'String' },
      },
    },
    MessageBodyAttributeMap: {
      type: 'map',
      flattened: true,
      key: { shape: 'String', locationName: 'Name' },
      value: { shape: 'MessageAttributeValue', locationName: 'Value' },
    },
    MessageBodySystemAttributeMap: {
      type: 'map',
      flattened: true,
      key: { shape: 'MessageSystemAttributeNameForSends', locationName: 'Name' },
      value: { shape: 'MessageSystemAttributeValue', locationName: 'Value' },
    },
    MessageList: { type: 'list', flattened: true, member: { shape: 'Message', locationName: 'Message' } },
    MessageNotInflight: {
      type: 'structure',
      members: {},
      errorCode: 'AWS.SimpleQueueService.MessageNotInflight',
    },
    MessageSystemAttributeMap: {
      type: 'map',
      flattened: true,
      key: { shape: 'MessageSystemAttributeName', locationName: 'Name' },
      value: { shape: 'String', locationName: 'Value' },
    },
    MessageSystemAttributeName: { type: 'string' },
    MessageSystemAttributeNameForSends: { type: 'string' },
    MessageSystemAttributeValue: {
      type: 'structure',
      members: {
        StringValue: { shape: 'String' },
        BinaryValue: { shape: 'Binary' },
        StringListValues: { shape: 'StringList', locationName: 'StringListValue', flattened: true },
        BinaryListValues: { shape: 'BinaryList', locationName: 'BinaryListValue', flattened: true },
        DataType: { shape: 'String' },
      },
    },
    OverLimit: { type: 'structure', members: {}, errorCode: 'OverLimit' },
    PurgeQueueInProgress: {
      type: 'structure',
      members: {},
      errorCode: 'AWS.SimpleQueueService.PurgeQueueInProgress',
    },
    PurgeQueueRequest: { type: 'structure', members: { QueueUrl: { shape: 'String' } } },
    QueueAttributeMap: {
      type: 'map',
      flattened: true,
      key: { shape: 'QueueAttributeName', locationName: 'Name' },
      value: { shape: 'String', locationName: 'Value' },
    },
    QueueAttributeName: { type: 'string' },
    QueueDeletedRecently: {
      type: 'structure',
      members: {},
      errorCode: 'AWS.SimpleQueueService.QueueDeletedRecently',
    },
    QueueDoesNotExist: {
      type: 'structure',
      members: {},
      errorCode: 'AWS.SimpleQueueService.NonExistentQueue',
    },
    QueueNameExists: { type: 'structure', members: {}, errorCode: 'QueueAlreadyExists' },
    QueueUrlList: { type: 'list', flattened: true, member: { shape: 'String', locationName: 'QueueUrl' } },
    ReceiptHandleIsInvalid: { type: 'structure', members: {} },
    ReceiveMessageRequest: {
      type: 'structure',
      members: {
        QueueUrl: { shape: 'String' },
        AttributeNames: { shape: 'AttributeNameList' },
        MessageAttributeNames: { shape: 'MessageAttributeNameList' },
        MaxNumberOfMessages: { shape: 'Integer' },
        VisibilityTimeout: { shape: 'Integer' },
        WaitTimeSeconds: { shape: 'Integer' },
        ReceiveRequestAttemptId: { shape: 'String' },
      },
    },
    ReceiveMessageResult: { type: 'structure', members: { Messages: { shape: 'MessageList' } } },
    RemovePermissionRequest: {
      type: 'structure',
      members: { QueueUrl: { shape: 'String' }, Label: { shape: 'String' } },
    },
    SendMessageBatchRequest: {
      type: 'structure',
      members: { QueueUrl: { shape: 'String' }, Entries: { shape: 'SendMessageBatchRequestEntryList' } },
    },
    SendMessageBatchRequestEntry: {
      type: 'structure',
      members: {
        Id: { shape: 'String' },
        MessageBody: { shape: 'String' },
        DelaySeconds: { shape: 'Integer' },
        MessageAttributes: { shape: 'MessageBodyAttributeMap', locationName: 'MessageAttribute' },
        MessageSystemAttributes: { shape: 'MessageBodySystemAttributeMap', locationName: 'MessageSystemAttribute' },
        MessageDeduplicationId: { shape: 'String' },
        MessageGroupId: { shape: 'String' },
      },
    },
    SendMessageBatchRequestEntryList: {
      type: 'list',
      flattened: true,
      member: { shape: 'SendMessageBatchRequestEntry', locationName: 'SendMessageBatchRequestEntry' },
    },
    SendMessageBatchResult: {
      type: 'structure',
      members: {
        Successful: { shape: 'SendMessageBatchResultEntryList' },
        Failed: { shape: 'BatchResultErrorEntryList' },
      },
    },
    SendMessageBatchResultEntry: {
      type: 'structure',
      members: {
        Id: { shape: 'String' },
        MessageId: { shape: 'String' },
        MD5OfMessageBody: { shape: 'String' },
        MD5OfMessageAttributes: { shape: 'String' },
        MD5OfMessageSystemAttributes: { shape: 'String' },
        SequenceNumber: { shape: 'String' },
      },
    },
    SendMessageBatchResultEntryList: {
      type: 'list',
      flattened: true,
      member: { shape: 'SendMessageBatchResultEntry', locationName: 'SendMessageBatchResultEntry' },
    },
    SendMessageRequest: {
      type: 'structure',
      members: {
        QueueUrl: { shape: 'String' },
        MessageBody: { shape: 'String' },
        DelaySeconds: { shape: 'Integer' },
        MessageAttributes: { shape: 'MessageBodyAttributeMap', locationName: 'MessageAttribute' },
        MessageSystemAttributes: { shape: 'MessageBodySystemAttributeMap', locationName: 'MessageSystemAttribute' },
        MessageDeduplicationId: { shape: 'String' },
        MessageGroupId: { shape: 'String' },
      },
    },
    SendMessageResult: {
      type: 'structure',
      members: {
        MD5OfMessageBody: { shape: 'String' },
        MD5OfMessageAttributes: { shape: 'String' },
        MD5OfMessageSystemAttributes: { shape: 'String' },
        MessageId: { shape: 'String' },
        SequenceNumber: { shape: 'String' },
      },
    },
    SetQueueAttributesRequest: {
      type: 'structure',
      members: { QueueUrl: { shape: 'String' }, Attributes: { shape: 'QueueAttributeMap', locationName: 'Attribute' } },
    },
    String: { type: 'string' },
    StringList: { type: 'list', member: { shape: 'String', locationName: 'StringListValue' } },
    TagKey: { type: 'string' },
    TagKeyList: { type: 'list', flattened: true, member: { shape: 'TagKey', locationName: 'TagKey' } },
    TagMap: {
      type: 'map',
      flattened: true,
      key: { shape: 'TagKey', locationName: 'Key' },
      value: { shape: 'TagValue', locationName: 'Value' },
    },
    TagQueueRequest: { type: 'structure', members: { QueueUrl: { shape: 'String' }, Tags: { shape: 'TagMap' } } },
    TagValue: { type: 'string' },
    Token: { type: 'string' },
    TooManyEntriesInBatchRequest: {
      type: 'structure',
      members: {},
      errorCode: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
    },
    UnsupportedOperation: {
      type: 'structure',
      members: {},
      errorCode: 'AWS.SimpleQueueService.UnsupportedOperation',
    },
    UntagQueueRequest: {
      type: 'structure',
      members: { QueueUrl: { shape: 'String' }, TagKeys: { shape: 'TagKeyList' } },
    },
  },
};
