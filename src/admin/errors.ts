/**
 * Every API error is JSON `{error: {code, message}}` with a stable code the
 * page translates; the message is English for logs and tests, never
 * personal data.
 */
export class AdminError extends Error {
  constructor(
    readonly code: string,
    readonly statusCode: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AdminError';
  }
}

export const unauthorized = () => new AdminError('UNAUTHORIZED', 401, 'sign in first');
export const forbidden = () => new AdminError('FORBIDDEN', 403, 'this needs an admin account');
export const badCsrf = () => new AdminError('BAD_CSRF', 403, 'missing or wrong CSRF token');
export const badInput = (message: string, code = 'BAD_INPUT') => new AdminError(code, 400, message);
export const notFound = (what: string) => new AdminError('NOT_FOUND', 404, `${what} not found`);

export interface ErrorBody {
  error: { code: string; message: string; fields?: string[] };
}
