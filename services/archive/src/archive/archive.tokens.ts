/** Injection tokens of the archive service. */
export const ARCHIVE_CONFIG = Symbol('ARCHIVE_CONFIG');
