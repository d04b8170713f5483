import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { NotificationSender } from '../processing/effects.ts';

/**
 * Notifications go to standard SQS queues as JSON bodies. `type` and `schemaVersion` are repeated as message
 * attributes so consumers can filter or route without parsing the body (docs/NOTIFICATIONS.md).
 */
export function sqsNotificationSender(client: SQSClient): NotificationSender {
  return {
    async send(queueUrl, notification) {
      await client.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: JSON.stringify(notification),
          MessageAttributes: {
            type: { DataType: 'String', StringValue: notification.type },
            schemaVersion: { DataType: 'String', StringValue: notification.schemaVersion },
            notificationId: { DataType: 'String', StringValue: notification.notificationId },
          },
        }),
      );
    },
  };
}
