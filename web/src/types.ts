// Shapes of the API's JSON. Money is KRW integers.
//
// The types of the JSON API are those of the OpenAPI document the server
// publishes (GET /api/v1/openapi.json), generated into api.gen.ts by
// `npm run gen:api-types`: a changed route schema changes them here, and the
// web app stops compiling where it no longer fits. Only what the document
// does not describe is written out by hand below (marked so).
import type { paths } from './api.gen.ts';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** What ApiJson and ItemOf give when the document has no such answer: no field of it type-checks. */
type Missing<What> = { readonly 'not in the OpenAPI document': What };

/** The JSON body of the 200 (else 201) answer of `METHOD path` in the OpenAPI document. */
export type ApiJson<
  P extends keyof paths,
  M extends Method & keyof paths[P],
> = paths[P][M] extends {
  responses: infer R;
}
  ? R extends { 200: { content: { 'application/json': infer T } } }
    ? T
    : R extends { 201: { content: { 'application/json': infer T } } }
      ? T
      : Missing<[M, P, 'a JSON 200 or 201 answer']>
  : Missing<[M, P]>;

/** The item type of a paged list answer. */
type ItemOf<T> = T extends { items: (infer I)[] } ? I : Missing<'a paged list answer'>;

export type Me = ApiJson<'/api/v1/me', 'get'>;
export type TokenPair = ApiJson<'/api/v1/auth/login', 'post'>;

export type Channel = ApiJson<'/api/v1/channels/{handle}', 'get'>['channel'];
export type ChannelSettings = Channel['settings'];

export type Mission = ApiJson<'/api/v1/missions/{id}', 'get'>['mission'];
export type ChannelStats = ApiJson<'/api/v1/channels/{handle}/stats', 'get'>;
export type TopBacker = ApiJson<'/api/v1/channels/{handle}/top-backers', 'get'>['items'][number];
export type MissionState = Mission['state'];

export type Wallet = ApiJson<'/api/v1/wallet', 'get'>;
export type WalletEntry = ItemOf<ApiJson<'/api/v1/wallet/transactions', 'get'>>;
export type PointsEntry = ItemOf<ApiJson<'/api/v1/wallet/points/transactions', 'get'>>;

export type Prediction = ApiJson<'/api/v1/missions/{id}/prediction', 'get'>;
export type Side = keyof Prediction['pools'];

export type MyPledge = ItemOf<ApiJson<'/api/v1/me/pledges', 'get'>>;
export type Pledge = ItemOf<ApiJson<'/api/v1/missions/{id}/pledges', 'get'>>;
export type OnFailure = Pledge['onFailure'];
export type MissionUnit = NonNullable<Mission['unit']>;
export type Limits = ApiJson<'/api/v1/me/limits', 'get'>;
export type Block = ItemOf<ApiJson<'/api/v1/channels/{handle}/blocks', 'get'>>;

export type Earnings = ApiJson<'/api/v1/streamer/earnings', 'get'>;
export type Payout = ItemOf<ApiJson<'/api/v1/streamer/payouts', 'get'>>;
export type PayoutAccount = ApiJson<'/api/v1/streamer/payout-account', 'get'>['payoutAccount'];
export type Withdrawal = ItemOf<ApiJson<'/api/v1/streamer/withdrawals', 'get'>>;
export type WithdrawalStatus = Withdrawal['status'];
export type WithdrawalPolicy = ApiJson<'/api/v1/streamer/withdrawal-policy', 'get'>;
export type OpsWithdrawal = ItemOf<ApiJson<'/api/v1/ops/withdrawals', 'get'>>;

/** A page of a list answer (every paged list of the API has this shape). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

// By hand: the server publishes the ledger report as an open object ({ ok }
// plus anything), so only that field comes from the document.
export type LedgerReport = ApiJson<'/api/v1/ops/ledger/verify', 'post'> & {
  checkedAt: string;
  durationMs: number;
  accounts?: number;
  transfers?: number;
  problems: { check: string; detail: string }[];
};

export type OpsSummary = Omit<ApiJson<'/api/v1/ops/summary', 'get'>, 'ledger'> & {
  ledger: { last: LedgerReport | null };
};
export type OpsBusiness = OpsSummary['business'];
export type OpsHistory = ApiJson<'/api/v1/ops/history', 'get'>;
export type OpsSample = OpsHistory['samples'][number];
export type DayTakings = OpsHistory['days'][number];

// By hand: live events (SSE) of /api/v1/channels/:handle/events and
// /api/v1/missions/:id/events; the document describes those streams as text.
export interface PledgeEvent {
  missionId: string;
  pledgeId: string;
  amount: number;
  backerName: string;
  /** The backer's message (masked by the channel's blocked words), or null. */
  message?: string | null;
  pledgedAmount: number;
  backerCount: number;
  /**
   * A held pledge voided before the outcome (its backer's payment was
   * reversed): no backerName, and the totals dropped. Never an alert.
   */
  voided?: true;
}
/** The channel owner hid a pledge's message (POST /api/v1/pledges/:id/hide-message). */
export interface ModerationEvent {
  missionId: string;
  pledgeId: string;
  messageHidden: true;
}
/** A per-unit mission's progress as the owner reported it. */
export interface ProgressEvent {
  missionId: string;
  units: number;
  maxUnits: number;
  label: string;
}
export interface StateEvent {
  missionId: string;
  state: MissionState;
  deadline: string | null;
  settled?: boolean;
  settledAt?: string | null;
  /** Dispute windows (contract 1.1). */
  proposedOutcome?: 'SUCCEEDED' | 'FAILED';
  disputeEndsAt?: string;
  disputedAmount?: number;
}
export interface PredictionEvent {
  missionId: string;
  pools: Record<Side, number>;
  state?: Prediction['state'];
}

export const TERMINAL: readonly MissionState[] = [
  'SUCCEEDED',
  'FAILED',
  'REJECTED',
  'EXPIRED',
  'CANCELLED',
];
export const isTerminal = (s: MissionState) => TERMINAL.includes(s);
/** Decided, waiting for its dispute window or an admin's review: nothing has moved yet. */
export const isUnconfirmed = (s: MissionState) => s === 'CONFIRMING' || s === 'IN_REVIEW';
export type Dispute = ItemOf<ApiJson<'/api/v1/missions/{id}/disputes', 'get'>>;
