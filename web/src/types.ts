// Shapes of the API's JSON (see /api/v1/openapi.json). Money is KRW integers.

export type MissionState =
  'PROPOSED' | 'ACTIVE' | 'SUCCEEDED' | 'FAILED' | 'REJECTED' | 'EXPIRED' | 'CANCELLED';
export type Side = 'SUCCEEDED' | 'FAILED';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Me {
  id: string;
  email: string;
  displayName: string;
  /** The owner followed a mailed link to this address. */
  emailVerified: boolean;
  roles: ('viewer' | 'streamer' | 'admin')[];
  channel: string | null;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

export interface ChannelSettings {
  missionMinAmount: number;
  missionMaxAmount: number;
  acceptWindowSeconds: number;
  failureKeepBps: number;
}

export interface Channel {
  handle: string;
  displayName: string;
  settings: ChannelSettings;
  createdAt: string;
}

export interface Mission {
  id: string;
  channel: string;
  title: string;
  description: string | null;
  state: MissionState;
  pledgedAmount: number;
  backerCount: number;
  durationSeconds: number;
  failureKeepBps: number;
  createdAt: string;
  acceptDeadline: string;
  acceptedAt: string | null;
  deadline: string | null;
  decidedAt: string | null;
  settledAt: string | null;
  createdBy: string;
}

export interface Wallet {
  available: number;
  held: number;
  currency: 'KRW';
  points: number;
}

export interface WalletEntry {
  id: string;
  kind:
    | 'charge'
    | 'pledge'
    | 'refund'
    | 'capture'
    | 'partial_capture'
    | 'payout'
    | 'adjustment'
    | string;
  amount: number;
  balanceAfter: number;
  missionId?: string;
  createdAt: string;
}

export interface Prediction {
  state: 'OPEN' | 'LOCKED' | 'RESOLVED' | 'REFUNDED';
  pools: Record<Side, number>;
  locksAt: string;
  myBet: { side: Side; points: number; payout: number | null } | null;
}

export interface MyPledge {
  pledgeId: string;
  amount: number;
  status: 'HELD' | 'CAPTURED' | 'REFUNDED' | 'PARTIALLY_REFUNDED';
  capturedAmount: number;
  refundedAmount: number;
  createdAt: string;
  mission: {
    id: string;
    title: string;
    channel: string;
    state: MissionState;
    settledAt: string | null;
  };
}

export interface Earnings {
  settled: number;
  pending: number;
  currency: 'KRW';
}

export interface Payout {
  missionId: string;
  title: string;
  amount: number;
  fee: number;
  createdAt: string;
}

export interface LedgerReport {
  ok: boolean;
  checkedAt: string;
  durationMs: number;
  accounts?: number;
  transfers?: number;
  problems: { check: string; detail: string }[];
}

export interface OpsSummary {
  at: string;
  uptimeSeconds: number;
  http: { requests: number; errors5xx: number; latencySecondsSum: number; latencyCount: number };
  pledges: { count: number; amount: number };
  settlement: {
    settledTotal: number;
    pendingJobs: number;
    lagSecondsSum: number;
    lagCount: number;
  };
  outbox: { pending: number; oldestAgeSeconds: number };
  mail: { pending: number; sent: number; failed: number };
  sse: { clients: number };
  ledger: { last: LedgerReport | null };
}

// Live events (SSE) of /api/v1/channels/:handle/events and /api/v1/missions/:id/events.
export interface PledgeEvent {
  missionId: string;
  pledgeId: string;
  amount: number;
  backerName: string;
  pledgedAmount: number;
  backerCount: number;
}
export interface StateEvent {
  missionId: string;
  state: MissionState;
  deadline: string | null;
  settled?: boolean;
  settledAt?: string | null;
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
