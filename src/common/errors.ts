/** One error hierarchy for the whole project: every error has a literal `name` and `code`. */

/** One problem found in an input, with the path of the element or field it concerns. */
export interface Issue {
  readonly path: string;
  readonly code: string;
  readonly message: string;
  readonly severity: 'error' | 'warning';
}

/** Base class of every error this project throws on purpose. */
export class EucanetdError extends Error {
  override readonly name: string = 'EucanetdError';
  readonly code: string = 'EUCANETD';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Input that failed validation; carries the issue list. */
export class ValidationError extends EucanetdError {
  override readonly name = 'ValidationError';
  override readonly code = 'VALIDATION';
  constructor(
    message: string,
    readonly issues: readonly Issue[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An error that retrying cannot fix (bad configuration, a refused document). */
export class TerminalError extends EucanetdError {
  override readonly name = 'TerminalError';
  override readonly code = 'TERMINAL';
}

/** Returns true for any error raised by this project. */
export function isEucanetdError(e: unknown): e is EucanetdError {
  return e instanceof EucanetdError;
}
/** Returns true for a validation error. */
export function isValidationError(e: unknown): e is ValidationError {
  return e instanceof ValidationError;
}
/** Returns true for an error that must not be retried. */
export function isTerminalError(e: unknown): e is TerminalError {
  return e instanceof TerminalError;
}

/** Marks a switch as exhaustive: compiling fails if a case is missing. */
export function assertNever(x: never, what = 'value'): never {
  throw new EucanetdError(`unexpected ${what}: ${JSON.stringify(x)}`);
}

/** A result of pure code that can fail on input without throwing. */
export type Result<T> =
  | { readonly ok: true; readonly value: T; readonly issues: readonly Issue[] }
  | { readonly ok: false; readonly issues: readonly Issue[] };
