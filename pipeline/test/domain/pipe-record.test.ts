import { describe, expect, it } from 'vitest';
import { parseStreamRecord, pipeRecordOf } from '../../src/schemas.ts';

const STREAM_ARN = 'arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/stream/2026-12-07T10:00:00.000';

describe('pipeRecordOf: a GetRecords record as a pipe delivers it', () => {
  it('takes the Region from the stream ARN (DynamoDB Local writes its own), epoch seconds, and both images', () => {
    const record = pipeRecordOf(
      {
        eventID: 'e-1',
        eventName: 'MODIFY',
        eventVersion: '1.1',
        awsRegion: 'ddblocal',
        dynamodb: {
          ApproximateCreationDateTime: new Date('2026-12-07T10:00:01.900Z'),
          Keys: { orderId: { S: 'o-1' } },
          NewImage: { orderId: { S: 'o-1' }, orderStatus: { S: 'shipped' } },
          OldImage: { orderId: { S: 'o-1' }, orderStatus: { S: 'pending' } },
          SequenceNumber: '100',
          SizeBytes: 42,
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        },
      },
      STREAM_ARN,
    );
    expect(record).toEqual({
      eventID: 'e-1',
      eventName: 'MODIFY',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'eu-west-1',
      eventSourceARN: STREAM_ARN,
      dynamodb: {
        ApproximateCreationDateTime: 1796637601,
        Keys: { orderId: { S: 'o-1' } },
        NewImage: { orderId: { S: 'o-1' }, orderStatus: { S: 'shipped' } },
        OldImage: { orderId: { S: 'o-1' }, orderStatus: { S: 'pending' } },
        SequenceNumber: '100',
        SizeBytes: 42,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    // What it builds is a stream record the processors accept.
    expect(parseStreamRecord(record)).toEqual(record);
  });

  it('keeps the record’s own Region when the ARN has none, and leaves out images the record lacks', () => {
    const record = pipeRecordOf(
      { eventID: 'e-2', eventName: 'REMOVE', awsRegion: 'us-east-1', dynamodb: { Keys: { orderId: { S: 'o-2' } } } },
      'not-an-arn',
    );
    expect(record.awsRegion).toBe('us-east-1');
    expect(record.dynamodb).toEqual({
      Keys: { orderId: { S: 'o-2' } },
      SequenceNumber: '0',
      SizeBytes: 0,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    });
  });
});
