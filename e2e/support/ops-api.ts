import type {
  DlqMessageDetail,
  ListMessagesResponse,
  RedriveAccepted,
  RedriveBody,
  RedriveJob,
} from '@orderflow/ops-api/schemas';
import type { PipeKey } from '@orderflow/pipeline/facts';
import type { RuntimeInfo } from '@orderflow/pipeline/schemas';
import { until } from '@orderflow/pipeline/testing';

export class OpsApiError extends Error {
  override readonly name = 'OpsApiError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The few ops API calls the suites make outside the browser, typed by the API's own schemas. */
export class OpsApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  static forRuntime(info: RuntimeInfo, role: 'operator' | 'viewer'): OpsApiClient {
    if (!info.opsApi)
      throw new OpsApiError('the runtime was started without the ops API (the opsApi option of startLocalRuntime)', 0);
    return new OpsApiClient(info.opsApi, info.tokens[role]);
  }

  /** The raw response, for asserting on status codes. */
  request(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.request(method, path, body);
    const text = await response.text();
    if (!response.ok) throw new OpsApiError(`${method} ${path} answered ${response.status}: ${text}`, response.status);
    return JSON.parse(text) as T;
  }

  /**
   * Every message of a pipe's DLQ, resolved to its records (follows the cursor). A list shows the records the failure
   * journal has (it never reads the stream); a message whose records the journal lacks (its invocations failed before
   * the handler ran) is opened, which reads them from the stream, as an operator would.
   */
  async dlqMessages(pipe: PipeKey): Promise<ListMessagesResponse['messages']> {
    const messages: ListMessagesResponse['messages'] = [];
    let cursor: string | null = null;
    do {
      const query = new URLSearchParams({ limit: '100', ...(cursor ? { cursor } : {}) });
      const page: ListMessagesResponse = await this.json('GET', `/api/dlqs/${pipe}/messages?${query}`);
      messages.push(...page.messages);
      cursor = page.cursor;
    } while (cursor);
    const complete: ListMessagesResponse['messages'] = [];
    for (const message of messages) {
      if (!message.missingRecords) {
        complete.push(message);
        continue;
      }
      const response = await this.request('GET', `/api/dlqs/${pipe}/messages/${encodeURIComponent(message.id)}`);
      // Redriven or discarded since the list: it is no longer in the DLQ.
      if (response.status === 404) continue;
      if (!response.ok) {
        throw new OpsApiError(`GET message ${message.id} answered ${response.status}: ${await response.text()}`, 0);
      }
      const { body: _body, ...detail } = (await response.json()) as DlqMessageDetail;
      complete.push(detail);
    }
    return complete;
  }

  /** Starts a redrive job and waits for it to finish. */
  async redrive(pipe: PipeKey, body: RedriveBody, timeoutMs = 600_000): Promise<RedriveJob> {
    const { jobId } = await this.json<RedriveAccepted>('POST', `/api/dlqs/${pipe}/redrive`, body);
    return until(
      async () => {
        const job = await this.json<RedriveJob>('GET', `/api/redrives/${jobId}`);
        return job.status !== 'running' && job;
      },
      `redrive job ${jobId} to end`,
      { timeoutMs, intervalMs: 250 },
    );
  }
}
