/**
 * MvccErrorCode names every operating error of the store, so that the server can map it to a gRPC code and
 * etcd's wire message in one table.
 */
export type MvccErrorCode =
  | "Compacted"
  | "FutureRevision"
  | "KeyNotFound"
  | "ValueProvided"
  | "LeaseProvided"
  | "LeaseNotFound"
  | "DuplicateKey"
  | "TooManyOps"
  | "EmptyKey"
  | "InvalidSortOption"
  | "DuplicateWatchId"
  | "WatchStreamClosed";

/** MvccError is the base of every typed error of this package; `message` is etcd's exact text. */
export class MvccError extends Error {
  /** code identifies the error kind independently of its message. */
  readonly code: MvccErrorCode;

  constructor(code: MvccErrorCode, message: string) {
    super(message);
    this.name = "MvccError";
    this.code = code;
  }
}

/** ErrCompacted: the requested revision has been compacted away (gRPC OutOfRange). */
export class ErrCompacted extends MvccError {
  constructor() {
    super("Compacted", "mvcc: required revision has been compacted");
    this.name = "ErrCompacted";
  }
}

/** ErrFutureRevision: the requested revision is above the current revision (gRPC OutOfRange). */
export class ErrFutureRevision extends MvccError {
  constructor() {
    super("FutureRevision", "mvcc: required revision is a future revision");
    this.name = "ErrFutureRevision";
  }
}

/** ErrKeyNotFound: ignore_value or ignore_lease on a key that does not exist (gRPC InvalidArgument). */
export class ErrKeyNotFound extends MvccError {
  constructor() {
    super("KeyNotFound", "etcdserver: key not found");
    this.name = "ErrKeyNotFound";
  }
}

/** ErrValueProvided: ignore_value together with a non-empty value (gRPC InvalidArgument). */
export class ErrValueProvided extends MvccError {
  constructor() {
    super("ValueProvided", "etcdserver: value is provided");
    this.name = "ErrValueProvided";
  }
}

/** ErrLeaseProvided: ignore_lease together with a lease id (gRPC InvalidArgument). */
export class ErrLeaseProvided extends MvccError {
  constructor() {
    super("LeaseProvided", "etcdserver: lease is provided");
    this.name = "ErrLeaseProvided";
  }
}

/** ErrLeaseNotFound: a put names a lease that the lessor does not know (gRPC NotFound). */
export class ErrLeaseNotFound extends MvccError {
  constructor() {
    super("LeaseNotFound", "etcdserver: requested lease not found");
    this.name = "ErrLeaseNotFound";
  }
}

/** ErrDuplicateKey: one txn branch writes a key twice or puts a key it also deletes (gRPC InvalidArgument). */
export class ErrDuplicateKey extends MvccError {
  constructor() {
    super("DuplicateKey", "etcdserver: duplicate key given in txn request");
    this.name = "ErrDuplicateKey";
  }
}

/** ErrTooManyOps: a txn has more compares or ops in one branch than the limit (gRPC InvalidArgument). */
export class ErrTooManyOps extends MvccError {
  constructor() {
    super("TooManyOps", "etcdserver: too many operations in txn request");
    this.name = "ErrTooManyOps";
  }
}

/** ErrEmptyKey: a request without a key (gRPC InvalidArgument). */
export class ErrEmptyKey extends MvccError {
  constructor() {
    super("EmptyKey", "etcdserver: key is not provided");
    this.name = "ErrEmptyKey";
  }
}

/** ErrInvalidSortOption: an unknown sort order or target value (gRPC InvalidArgument). */
export class ErrInvalidSortOption extends MvccError {
  constructor() {
    super("InvalidSortOption", "etcdserver: invalid sort option");
    this.name = "ErrInvalidSortOption";
  }
}

/** ErrDuplicateWatchId: the client asked for a watch id that is in use on the stream. */
export class ErrDuplicateWatchId extends MvccError {
  constructor() {
    super("DuplicateWatchId", "mvcc: duplicate watch ID provided on the WatchStream");
    this.name = "ErrDuplicateWatchId";
  }
}

/** ErrWatchStreamClosed: an operation on a closed watch stream. */
export class ErrWatchStreamClosed extends MvccError {
  constructor() {
    super("WatchStreamClosed", "mvcc: watcher is closed");
    this.name = "ErrWatchStreamClosed";
  }
}
