/** Typed store errors. Every message names the object (`port/<id>`) and what was attempted. */
import { EucanetdError } from '../common/index.js';
import type { Kind } from './types.js';

/** Base class of every store error. */
export class StoreError extends EucanetdError {
  override readonly name: string = 'StoreError';
  override readonly code: string = 'STORE';
}

/** The object (or an object a field references) does not exist. HTTP 404 / 400. */
export class NotFoundError extends StoreError {
  override readonly name = 'NotFoundError';
  override readonly code = 'NOT_FOUND';
  constructor(
    readonly kind: Kind,
    readonly id: string,
    message = `${kind}/${id} not found`,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Create of an id that already exists. HTTP 409. */
export class AlreadyExistsError extends StoreError {
  override readonly name = 'AlreadyExistsError';
  override readonly code = 'ALREADY_EXISTS';
  constructor(
    readonly kind: Kind,
    readonly id: string,
    options?: { cause?: unknown },
  ) {
    super(`${kind}/${id} already exists`, options);
  }
}

/** A single-valued back-reference is already set to another object. HTTP 409. */
export class ReferenceConflictError extends StoreError {
  override readonly name = 'ReferenceConflictError';
  override readonly code = 'REFERENCE_CONFLICT';
}

/** Delete refused by an ERROR binding (the object is still referenced). HTTP 409. */
export class ReferencedError extends StoreError {
  override readonly name = 'ReferencedError';
  override readonly code = 'REFERENCED';
}

/** Optimistic check failed: the object changed since it was read. HTTP 409; retryable. */
export class ConcurrentModificationError extends StoreError {
  override readonly name = 'ConcurrentModificationError';
  override readonly code = 'CONCURRENT_MODIFICATION';
}

/** A field is missing, of the wrong type or out of range. HTTP 400. */
export class InvalidFieldError extends StoreError {
  override readonly name = 'InvalidFieldError';
  override readonly code = 'INVALID_FIELD';
}

/** The store on disk is damaged (bad checksum, broken binding, unknown format). */
export class StoreCorruptError extends StoreError {
  override readonly name = 'StoreCorruptError';
  override readonly code = 'STORE_CORRUPT';
}

/** The directory holds no store (no manifest, snapshot or journal): not an empty store. */
export class StoreNotFoundError extends StoreError {
  override readonly name = 'StoreNotFoundError';
  override readonly code = 'STORE_NOT_FOUND';
}

/** The store directory is locked by another process. */
export class StoreLockedError extends StoreError {
  override readonly name = 'StoreLockedError';
  override readonly code = 'STORE_LOCKED';
}

/** A watch asked for history the store no longer keeps. */
export class RevisionCompactedError extends StoreError {
  override readonly name = 'RevisionCompactedError';
  override readonly code = 'REVISION_COMPACTED';
}

/** The backend cannot be reached (remote API, etcd); retryable. */
export class StoreUnavailableError extends StoreError {
  override readonly name = 'StoreUnavailableError';
  override readonly code = 'STORE_UNAVAILABLE';
}

/** Returns true for any store error. */
export function isStoreError(e: unknown): e is StoreError {
  return e instanceof StoreError;
}
