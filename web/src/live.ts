// Live mission events over server-sent events, and a channel "board" (its
// proposed and active missions) kept current from them.
import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { api, ApiError } from './api.ts';
import {
  isTerminal,
  type Channel,
  type Mission,
  type MissionState,
  type ModerationEvent,
  type Page,
  type PledgeEvent,
  type PredictionEvent,
  type ProgressEvent,
  type StateEvent,
} from './types.ts';

export type LiveStatus = 'connecting' | 'open' | 'reconnecting';

export interface LiveHandlers {
  pledge?(e: PledgeEvent, id: number): void;
  state?(e: StateEvent, id: number): void;
  prediction?(e: PredictionEvent, id: number): void;
  progress?(e: ProgressEvent, id: number): void;
  moderation?(e: ModerationEvent, id: number): void;
}

/**
 * Follows an SSE stream. The browser resumes after a dropped connection with
 * Last-Event-ID by itself; when the stream closes for good (e.g. the server
 * restarted and answered 503 once) we reconnect with `?lastEventId=` so no
 * event is missed, and any event id already seen is ignored, so none is
 * handled twice.
 */
export function useLiveEvents(url: string | null, handlers: LiveHandlers): LiveStatus {
  const ref = useRef(handlers);
  ref.current = handlers;
  const [status, setStatus] = useState<LiveStatus>('connecting');
  useEffect(() => {
    if (!url) return;
    let es: EventSource | null = null;
    let lastId = 0;
    let attempts = 0;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let closed = false;
    const connect = () => {
      es = new EventSource(lastId > 0 ? `${url}?lastEventId=${lastId}` : url);
      es.onopen = () => {
        attempts = 0;
        setStatus('open');
      };
      es.onerror = () => {
        if (closed || !es) return;
        setStatus('reconnecting');
        if (es.readyState === EventSource.CLOSED) {
          es.close();
          retry = setTimeout(connect, Math.min(15_000, 1000 * 2 ** attempts++));
        }
      };
      for (const type of ['pledge', 'state', 'prediction', 'progress', 'moderation'] as const) {
        es.addEventListener(type, (ev) => {
          const msg = ev as MessageEvent<string>;
          const id = Number(msg.lastEventId);
          if (Number.isSafeInteger(id) && id > 0) {
            if (id <= lastId) return;
            lastId = id;
          }
          let data: unknown;
          try {
            data = JSON.parse(msg.data);
          } catch {
            return;
          }
          const h = ref.current[type] as ((d: unknown, id: number) => void) | undefined;
          h?.(data, id);
        });
      }
    };
    setStatus('connecting');
    connect();
    return () => {
      closed = true;
      clearTimeout(retry);
      es?.close();
    };
  }, [url]);
  return status;
}

const RANK: Record<MissionState, number> = {
  PROPOSED: 0,
  ACTIVE: 1,
  // Decided, not final yet: between ACTIVE and the terminal states.
  CONFIRMING: 1.3,
  IN_REVIEW: 1.6,
  SUCCEEDED: 2,
  FAILED: 2,
  REJECTED: 2,
  EXPIRED: 2,
  CANCELLED: 2,
};

/**
 * Merges two views of one mission that may have been read at different
 * moments: totals only grow and states only move forward, so the newer fact
 * wins whichever arrived last.
 */
export function mergeMission(a: Mission, b: Mission): Mission {
  const newer = RANK[b.state] >= RANK[a.state] ? b : a;
  return {
    ...newer,
    pledgedAmount: Math.max(a.pledgedAmount, b.pledgedAmount),
    backerCount: Math.max(a.backerCount, b.backerCount),
    deadline: newer.deadline ?? a.deadline ?? b.deadline,
    acceptedAt: newer.acceptedAt ?? a.acceptedAt ?? b.acceptedAt,
    settledAt: a.settledAt ?? b.settledAt,
    // Progress only grows, like totals.
    unit:
      newer.unit && (a.unit || b.unit)
        ? { ...newer.unit, units: Math.max(a.unit?.units ?? 0, b.unit?.units ?? 0) }
        : newer.unit,
  };
}

export interface LastPledge {
  eventId: number;
  pledgeId: string;
  amount: number;
  backerName: string;
  message?: string | null;
}

interface BoardState {
  missions: Record<string, Mission>;
  pools: Record<string, PredictionEvent>;
  lastPledge: Record<string, LastPledge>;
  /** When a mission reached a terminal state while this page was open. */
  endedAt: Record<string, number>;
  /** Pledges whose message the channel owner hid while this page was open. */
  hidden: Record<string, true>;
  /** Missions whose proposal message the owner hid here (a list read just before still shows it). */
  hiddenProposals: Record<string, true>;
}

type Action =
  | { type: 'missions'; missions: Mission[] }
  | { type: 'pledge'; e: PledgeEvent; id: number }
  | { type: 'state'; e: StateEvent }
  | { type: 'prediction'; e: PredictionEvent }
  | { type: 'progress'; e: ProgressEvent }
  | { type: 'moderation'; missionId: string; pledgeId: string; proposal?: boolean };

function reduce(s: BoardState, a: Action): BoardState {
  switch (a.type) {
    case 'missions': {
      const missions = { ...s.missions };
      const endedAt = { ...s.endedAt };
      for (const m of a.missions) {
        const old = missions[m.id];
        missions[m.id] = old ? mergeMission(old, m) : m;
        if (s.hiddenProposals[m.id]) missions[m.id] = { ...missions[m.id]!, proposalMessage: null };
        if (old && RANK[old.state] < 2 && RANK[m.state] === 2) endedAt[m.id] = Date.now();
      }
      return { ...s, missions, endedAt };
    }
    case 'pledge': {
      const m = s.missions[a.e.missionId];
      if (a.e.voided) {
        // Totals drop (events come in order, so this one is newer than what is shown); no alert.
        if (!m) return s;
        return {
          ...s,
          missions: {
            ...s.missions,
            [m.id]: { ...m, pledgedAmount: a.e.pledgedAmount, backerCount: a.e.backerCount },
          },
        };
      }
      const lastPledge = {
        ...s.lastPledge,
        [a.e.missionId]: {
          eventId: a.id,
          pledgeId: a.e.pledgeId,
          amount: a.e.amount,
          backerName: a.e.backerName,
          message: a.e.message ?? null,
        },
      };
      if (!m) return { ...s, lastPledge };
      return {
        ...s,
        lastPledge,
        missions: {
          ...s.missions,
          [m.id]: {
            ...m,
            pledgedAmount: Math.max(m.pledgedAmount, a.e.pledgedAmount),
            backerCount: Math.max(m.backerCount, a.e.backerCount),
          },
        },
      };
    }
    case 'state': {
      const m = s.missions[a.e.missionId];
      if (!m) return s;
      const next: Mission = { ...m };
      if (a.e.state && RANK[a.e.state] >= RANK[m.state]) next.state = a.e.state;
      if (a.e.deadline) next.deadline = a.e.deadline;
      if (a.e.proposedOutcome) next.proposedOutcome = a.e.proposedOutcome;
      if (a.e.disputeEndsAt) next.disputeEndsAt = a.e.disputeEndsAt;
      if (a.e.disputedAmount !== undefined) next.disputedAmount = Math.max(next.disputedAmount ?? 0, a.e.disputedAmount);
      if (a.e.settled) next.settledAt = a.e.settledAt ?? new Date().toISOString();
      const endedAt =
        RANK[m.state] < 2 && RANK[next.state] === 2
          ? { ...s.endedAt, [m.id]: Date.now() }
          : s.endedAt;
      return { ...s, endedAt, missions: { ...s.missions, [m.id]: next } };
    }
    case 'progress': {
      const m = s.missions[a.e.missionId];
      if (!m) return s;
      const units = Math.max(m.unit?.units ?? 0, a.e.units);
      const unit = { label: a.e.label, maxUnits: a.e.maxUnits, units };
      return { ...s, missions: { ...s.missions, [m.id]: { ...m, unit } } };
    }
    case 'moderation': {
      const hidden = { ...s.hidden, [a.pledgeId]: true as const };
      const last = s.lastPledge[a.missionId];
      const lastPledge =
        last?.pledgeId === a.pledgeId
          ? { ...s.lastPledge, [a.missionId]: { ...last, message: null } }
          : s.lastPledge;
      if (!a.proposal) return { ...s, hidden, lastPledge };
      const m = s.missions[a.missionId];
      return {
        ...s,
        hidden,
        lastPledge,
        hiddenProposals: { ...s.hiddenProposals, [a.missionId]: true },
        missions: m ? { ...s.missions, [m.id]: { ...m, proposalMessage: null } } : s.missions,
      };
    }
    case 'prediction': {
      const old = s.pools[a.e.missionId];
      const pools = old
        ? {
            SUCCEEDED: Math.max(old.pools.SUCCEEDED, a.e.pools.SUCCEEDED),
            FAILED: Math.max(old.pools.FAILED, a.e.pools.FAILED),
          }
        : a.e.pools;
      return {
        ...s,
        pools: {
          ...s.pools,
          [a.e.missionId]: { missionId: a.e.missionId, pools, state: a.e.state ?? old?.state },
        },
      };
    }
  }
}

export interface Board {
  channel: Channel | null;
  notFound: boolean;
  error: unknown;
  loaded: boolean;
  missions: Mission[];
  pools: Record<string, PredictionEvent>;
  lastPledge: Record<string, LastPledge>;
  endedAt: Record<string, number>;
  /** Pledges whose message the owner hid while the page was open (lists read earlier still have it). */
  hidden: Record<string, true>;
  status: LiveStatus;
  reload(): Promise<void>;
  /**
   * Drops a message the owner just hid from this page at once (its
   * `moderation` event follows); `proposal` when it is the mission's proposal
   * message.
   */
  messageHidden(missionId: string, pledgeId: string, proposal?: boolean): void;
}

async function allOf(handle: string, state: MissionState): Promise<Mission[]> {
  const out: Mission[] = [];
  let cursor: string | null = null;
  // Open missions are few; five pages of 100 is far more than any channel has.
  for (let i = 0; i < 5; i++) {
    const q: string = `/api/v1/channels/${encodeURIComponent(handle)}/missions?state=${state}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page: Page<Mission> = await api<Page<Mission>>('GET', q);
    out.push(...page.items);
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  return out;
}

/**
 * A channel with its PROPOSED and ACTIVE missions, live. The stream is opened
 * before the lists are read, so nothing between the read and the first event
 * is lost; totals and states merge monotonically, so order does not matter.
 */
export function useChannelBoard(handle: string, extra: LiveHandlers = {}): Board {
  const [state, dispatch] = useReducer(reduce, {
    missions: {},
    pools: {},
    lastPledge: {},
    endedAt: {},
    hidden: {},
    hiddenProposals: {},
  });
  const stateRef = useRef(state);
  stateRef.current = state;
  const [channel, setChannel] = useState<Channel | null>(null);
  const [notFound, setNotFound] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [loaded, setLoaded] = useState(false);
  const known = useRef(new Set<string>());
  const fetching = useRef(new Set<string>());
  const extraRef = useRef(extra);
  extraRef.current = extra;

  const fetchMission = useCallback(async (id: string) => {
    if (fetching.current.has(id)) return;
    fetching.current.add(id);
    try {
      const { mission } = await api<{ mission: Mission }>(
        'GET',
        `/api/v1/missions/${encodeURIComponent(id)}`,
      );
      known.current.add(mission.id);
      dispatch({ type: 'missions', missions: [mission] });
    } catch {
      // A later event or reload fetches it again.
    } finally {
      fetching.current.delete(id);
    }
  }, []);

  const reload = useCallback(async () => {
    try {
      const [{ channel: c }, proposed, active, confirming, inReview] = await Promise.all([
        api<{ channel: Channel }>('GET', `/api/v1/channels/${encodeURIComponent(handle)}`),
        allOf(handle, 'PROPOSED'),
        allOf(handle, 'ACTIVE'),
        allOf(handle, 'CONFIRMING'),
        allOf(handle, 'IN_REVIEW'),
      ]);
      setChannel(c);
      const open = [...proposed, ...active, ...confirming, ...inReview];
      const fresh = new Set<string>();
      for (const m of open) {
        known.current.add(m.id);
        fresh.add(m.id);
      }
      dispatch({ type: 'missions', missions: open });
      // Shown as open here but no longer open there: an event was missed; ask.
      for (const m of Object.values(stateRef.current.missions)) {
        if (!isTerminal(m.state) && !fresh.has(m.id)) void fetchMission(m.id);
      }
      setError(null);
      setNotFound(false);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) setNotFound(true);
      else setError(err);
    } finally {
      setLoaded(true);
    }
  }, [handle, fetchMission]);

  const messageHidden = useCallback(
    (missionId: string, pledgeId: string, proposal?: boolean) =>
      dispatch({ type: 'moderation', missionId, pledgeId, proposal }),
    [],
  );

  const valid = /^[a-z0-9_]{3,24}$/.test(handle);
  const status = useLiveEvents(
    valid && !notFound ? `/api/v1/channels/${encodeURIComponent(handle)}/events` : null,
    {
      pledge: (e, id) => {
        dispatch({ type: 'pledge', e, id });
        if (!known.current.has(e.missionId)) void fetchMission(e.missionId);
        extraRef.current.pledge?.(e, id);
      },
      state: (e, id) => {
        dispatch({ type: 'state', e });
        // A decision awaiting confirmation brings its proof and note: read them.
        if (!known.current.has(e.missionId) || e.state === 'CONFIRMING' || e.state === 'IN_REVIEW') void fetchMission(e.missionId);
        extraRef.current.state?.(e, id);
      },
      prediction: (e, id) => {
        dispatch({ type: 'prediction', e });
        extraRef.current.prediction?.(e, id);
      },
      progress: (e, id) => {
        dispatch({ type: 'progress', e });
        if (!known.current.has(e.missionId)) void fetchMission(e.missionId);
        extraRef.current.progress?.(e, id);
      },
      moderation: (e, id) => {
        if (e.messageHidden && e.pledgeId) {
          dispatch({ type: 'moderation', missionId: e.missionId, pledgeId: e.pledgeId });
          // It may be the proposal's message (the mission's first pledge): the mission says.
          if (stateRef.current.missions[e.missionId]?.proposalMessage) void fetchMission(e.missionId);
        }
        extraRef.current.moderation?.(e, id);
      },
    },
  );

  useEffect(() => {
    known.current = new Set();
    setLoaded(false);
    setChannel(null);
    if (!valid) {
      setNotFound(true);
      setLoaded(true);
      return;
    }
    void reload();
  }, [handle, valid, reload]);

  // A slow safety net: live events carry every change, but a resync every
  // 30 s repairs anything a long disconnection could have hidden.
  useEffect(() => {
    if (!valid) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void reload();
    }, 30_000);
    return () => clearInterval(timer);
  }, [valid, reload]);

  return {
    channel,
    notFound,
    error,
    loaded,
    missions: Object.values(state.missions),
    pools: state.pools,
    lastPledge: state.lastPledge,
    endedAt: state.endedAt,
    hidden: state.hidden,
    status,
    reload,
    messageHidden,
  };
}
