/**
 * The error catalogue: every machine code the API can answer with, its HTTP
 * status and title. Routes throw `new AppError('CODE')`; the HTTP layer turns
 * it into RFC 9457 problem+json. docs/errors.md and the OpenAPI document are
 * checked against this list by a test.
 */
export const ERROR_CATALOGUE = {
  VALIDATION_FAILED: { status: 400, title: 'The request is invalid' },
  MALFORMED_JSON: { status: 400, title: 'The request body is not valid JSON' },
  WEBHOOK_URL_NOT_ALLOWED: { status: 400, title: 'Webhooks cannot be sent to this URL' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication is required' },
  INVALID_CREDENTIALS: { status: 401, title: 'Email or password is wrong' },
  INVALID_REFRESH_TOKEN: { status: 401, title: 'The refresh token is invalid or spent' },
  INVALID_TOKEN: { status: 400, title: 'The token is unknown, used or expired' },
  INVALID_SIGNATURE: { status: 401, title: 'The signature does not match' },
  INSUFFICIENT_FUNDS: { status: 402, title: 'Not enough available cash' },
  INSUFFICIENT_POINTS: { status: 402, title: 'Not enough channel points' },
  FORBIDDEN: { status: 403, title: 'You are not allowed to do this' },
  SELF_EXCLUDED: { status: 403, title: 'You excluded yourself from spending for now' },
  BLOCKED_BY_CHANNEL: { status: 403, title: 'This channel blocked you' },
  NOT_FOUND: { status: 404, title: 'The resource does not exist' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'The method is not allowed here' },
  EMAIL_TAKEN: { status: 409, title: 'An account with this email exists' },
  HANDLE_TAKEN: { status: 409, title: 'This channel handle is taken' },
  ALREADY_STREAMER: { status: 409, title: 'You already own a channel' },
  ALREADY_CLAIMED: { status: 409, title: 'Today’s points were already claimed' },
  MISSION_NOT_OPEN: { status: 409, title: 'The mission does not take pledges now' },
  MISSION_NOT_PROPOSED: { status: 409, title: 'The mission is not waiting for acceptance' },
  MISSION_NOT_ACTIVE: { status: 409, title: 'The mission is not active' },
  MISSION_ALREADY_DECIDED: { status: 409, title: 'The mission was already decided' },
  MISSION_ALREADY_ENDED: { status: 409, title: 'The mission already ended' },
  ACCEPT_WINDOW_CLOSED: { status: 409, title: 'The accept window has closed' },
  DEADLINE_PASSED: { status: 409, title: 'The mission deadline has passed' },
  SIDE_ALREADY_CHOSEN: { status: 409, title: 'You already bet on the other side' },
  PREDICTION_LOCKED: { status: 409, title: 'The prediction is closed' },
  SPENDING_LIMIT_REACHED: { status: 409, title: 'This would pass your spending limit' },
  PROGRESS_NOT_MONOTONIC: { status: 409, title: 'Progress never goes back' },
  NOT_A_BACKER: { status: 403, title: 'Only backers of the mission can do this' },
  MISSION_NOT_CONFIRMING: { status: 409, title: 'The mission is not in its dispute window' },
  ALREADY_DISPUTED: { status: 409, title: 'You already disputed this mission' },
  MISSION_NOT_IN_REVIEW: { status: 409, title: 'The mission is not waiting for a review' },
  REQUEST_IN_PROGRESS: { status: 409, title: 'The same request is still being processed' },
  PAYOUT_ACCOUNT_MISSING: { status: 409, title: 'No payout account is registered' },
  WITHDRAWAL_NOT_REQUESTED: { status: 409, title: 'The withdrawal is not waiting for review' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The content type is not supported' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'The idempotency key was used with another request' },
  PAYOUT_ACCOUNT_INVALID: { status: 422, title: 'The payout provider refused the bank account' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  INTERNAL: { status: 500, title: 'Something went wrong on our side' },
  UNAVAILABLE: { status: 503, title: 'The service is not ready' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface FieldError {
  path: string;
  message: string;
}

/** An error with a catalogue code; the only kind of error a route should throw. */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly extra?: { errors?: FieldError[]; retryAfterSeconds?: number },
  ) {
    super(detail ?? ERROR_CATALOGUE[code].title);
    this.status = ERROR_CATALOGUE[code].status;
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errors?: FieldError[];
}

/** Builds the RFC 9457 body for a code. `type` points at the code's docs entry. */
export function problemOf(code: ErrorCode, detail?: string, errors?: FieldError[]): Problem {
  const entry = ERROR_CATALOGUE[code];
  const body: Problem = {
    type: `https://missionlink.dev/errors#${code.toLowerCase().replaceAll('_', '-')}`,
    title: entry.title,
    status: entry.status,
    detail: detail ?? entry.title,
    code,
  };
  if (errors) body.errors = errors;
  return body;
}
