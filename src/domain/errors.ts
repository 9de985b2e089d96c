/** Every error Roster answers with, defined once: a stable code, an HTTP status and a message. Callers match codes. */
export const errorCatalogue = {
  invalid_body: { status: 400, message: 'The request body is not valid.' },
  invalid_json: { status: 400, message: 'The request body is not valid JSON.' },
  unsupported_media_type: { status: 415, message: 'Send the body as application/json.' },
  payload_too_large: { status: 413, message: 'The request body is over the size limit.' },
  invalid_identifier: { status: 400, message: 'The identifier is not valid.' },
  invalid_email: { status: 400, message: 'The email address is not valid.' },
  reserved_prefix: { status: 400, message: 'Values beginning with cio_ are reserved for cio_id references.' },
  invalid_attribute: { status: 400, message: 'An attribute is not valid.' },
  too_many_attributes: { status: 400, message: 'A person may have at most 300 attributes.' },
  invalid_unsubscribed: {
    status: 400,
    message: 'unsubscribed must be true, false, 1, 0, "true", "false", "1" or "0".',
  },
  invalid_timestamp: { status: 400, message: 'The timestamp must be unix seconds or an ISO-8601 date.' },
  invalid_event: { status: 400, message: 'The event is not valid.' },
  invalid_device: { status: 400, message: 'The device is not valid.' },
  invalid_merge: { status: 400, message: 'The merge request is not valid.' },
  invalid_action: { status: 400, message: 'The action is not supported.' },
  invalid_query: { status: 400, message: 'A query parameter is not valid.' },
  invalid_relationship: { status: 400, message: 'The relationships are not valid.' },
  invalid_filter: { status: 400, message: 'The filter is not valid.' },
  segment_not_manual: { status: 400, message: 'People are added to and removed from manual segments only.' },
  invalid_csv: { status: 400, message: 'The CSV file is not valid.' },
  no_identifier: { status: 400, message: 'Name the person by id, email or cio_id.' },
  unauthorized: { status: 401, message: 'Unauthorized request. Make sure that you provided the right credentials.' },
  invalid_signature: { status: 401, message: 'The download link is not valid.' },
  link_expired: { status: 403, message: 'The download link has expired; ask for a new one.' },
  person_not_found: { status: 404, message: 'The customer does not exist.' },
  object_not_found: { status: 404, message: 'The object does not exist.' },
  segment_not_found: { status: 404, message: 'The segment does not exist.' },
  export_not_found: { status: 404, message: 'The export does not exist.' },
  suppression_not_found: { status: 404, message: 'That identifier is not suppressed.' },
  route_not_found: { status: 404, message: 'There is no such endpoint.' },
  method_not_allowed: { status: 405, message: 'That method is not allowed here.' },
  identifier_in_use: { status: 409, message: 'The identifier is already associated with a different profile.' },
  identifier_change_requires_cio_id: {
    status: 409,
    message: 'Changing an identifier requires referencing the person by cio_id.',
  },
  export_not_ready: { status: 409, message: 'The export has not finished yet.' },
  suppressed: { status: 409, message: 'The identifier is suppressed; the call was dropped.' },
  export_expired: {
    status: 410,
    message: "The export's file was deleted 30 days after it was made; create a new export.",
  },
  rate_limited: { status: 429, message: 'Too many requests.' },
  unavailable: { status: 503, message: 'The server is shutting down; retry shortly.' },
  internal: { status: 500, message: 'Something went wrong on our side.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

/** A client-facing failure: a stable code, its HTTP status, a message and optionally the field at fault. */
export class RosterError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly field?: string,
  ) {
    super(message ?? errorCatalogue[code].message);
    this.status = errorCatalogue[code].status;
  }
}

/** Shorthand for a RosterError naming a field. */
export const fail = (code: ErrorCode, message?: string, field?: string): RosterError =>
  new RosterError(code, message, field);

/**
 * A client's value, for an error message. Never String(): a JSON object whose `toString` key is not a function
 * (`{"toString": ""}`) makes String() throw, which would turn a 400 into a 500.
 */
export const shown = (value: unknown): string =>
  typeof value === 'string' ? value : (JSON.stringify(value) ?? typeof value);
