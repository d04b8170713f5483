/**
 * The access key a request was signed with, from a Signature Version 4 `Authorization` header
 * (`AWS4-HMAC-SHA256 Credential=<AKID>/<date>/<region>/<service>/aws4_request, SignedHeaders=..., Signature=...`) or a
 * presigned URL's `X-Amz-Credential` query parameter
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html). The signature itself is not
 * verified (docs/ARCHITECTURE.md, "Local IAM enforcement").
 */
export interface SignedCredential {
  readonly accessKeyId: string;
  readonly region: string | undefined;
  readonly service: string | undefined;
}

const CREDENTIAL = 'Credential=';

function fromScope(scope: string): SignedCredential | undefined {
  const slash = scope.indexOf('/');
  const accessKeyId = slash < 0 ? scope : scope.slice(0, slash);
  if (accessKeyId === '') return undefined;
  if (slash < 0) return { accessKeyId, region: undefined, service: undefined };
  const [, region, service] = scope.slice(slash + 1).split('/');
  return { accessKeyId, region: region || undefined, service: service || undefined };
}

/** The credential of a SigV4 `Authorization` header, or undefined when it has none (unsigned, or another scheme). */
export function credentialOfAuthorization(header: string | undefined): SignedCredential | undefined {
  if (!header) return undefined;
  const start = header.indexOf(CREDENTIAL);
  if (start < 0) return undefined;
  const from = start + CREDENTIAL.length;
  let end = header.indexOf(',', from);
  if (end < 0) end = header.length;
  return fromScope(header.slice(from, end).trim());
}

/** The credential of a presigned URL (`X-Amz-Credential`, percent-encoded), or undefined. */
export function credentialOfQuery(url: string): SignedCredential | undefined {
  const question = url.indexOf('?');
  if (question < 0) return undefined;
  const value = new URLSearchParams(url.slice(question + 1)).get('X-Amz-Credential');
  return value ? fromScope(value) : undefined;
}

/** The request's credential from either place; the header wins, as AWS does not accept both. */
export function credentialOf(authorization: string | undefined, url: string | undefined): SignedCredential | undefined {
  return (
    credentialOfAuthorization(authorization) ?? (url?.includes('X-Amz-Credential') ? credentialOfQuery(url) : undefined)
  );
}
