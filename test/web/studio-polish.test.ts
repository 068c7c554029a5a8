// The helpers behind the studio queue, "My missions" and the wallet history:
// keys on a queue card (web/src/studio-keys.ts), pledges grouped per mission
// (web/src/my-missions.ts), the recent proposers a streamer can block
// (web/src/blocks.ts), and the words of each history row
// (web/src/wallet-history.ts) in Korean and English — never "0원".
import { describe, expect, it } from 'vitest';
import { recentProposers } from '../../web/src/blocks.ts';
import { DICTS } from '../../web/src/i18n.ts';
import { groupByMission } from '../../web/src/my-missions.ts';
import { queueAction, type KeyLike } from '../../web/src/studio-keys.ts';
import type { Block, Mission, MyPledge, PointsEntry, WalletEntry } from '../../web/src/types.ts';
import { appendOlder, entryWords, mergeNewest, pointsWords } from '../../web/src/wallet-history.ts';

const { ko, en } = DICTS;

describe('queueAction', () => {
  const key = (key: string, code: string, more: Partial<KeyLike> = {}): KeyLike => ({
    key,
    code,
    altKey: false,
    ctrlKey: false,
    metaKey: false,
    ...more,
  });
  const card = { tagName: 'ARTICLE' };

  it('reads A, R, arrows and J/K on a card', () => {
    expect(queueAction(key('a', 'KeyA'), card)).toBe('accept');
    expect(queueAction(key('A', 'KeyA'), card)).toBe('accept');
    expect(queueAction(key('r', 'KeyR'), card)).toBe('reject');
    expect(queueAction(key('ArrowDown', 'ArrowDown'), card)).toBe('next');
    expect(queueAction(key('ArrowUp', 'ArrowUp'), card)).toBe('prev');
    expect(queueAction(key('j', 'KeyJ'), { tagName: 'BUTTON' })).toBe('next');
    expect(queueAction(key('k', 'KeyK'), card)).toBe('prev');
    expect(queueAction(key('x', 'KeyX'), card)).toBeNull();
    expect(queueAction(key('Enter', 'Enter'), card)).toBeNull();
  });

  it('works with the Korean layout on (the key types ㅁ or ㄱ)', () => {
    expect(queueAction(key('ㅁ', 'KeyA'), card)).toBe('accept');
    expect(queueAction(key('ㄱ', 'KeyR'), card)).toBe('reject');
  });

  it('never fires while typing, with a modifier, on a held key or mid-composition', () => {
    for (const tagName of ['INPUT', 'TEXTAREA', 'SELECT'])
      expect(queueAction(key('a', 'KeyA'), { tagName })).toBeNull();
    expect(queueAction(key('a', 'KeyA'), { tagName: 'DIV', isContentEditable: true })).toBeNull();
    expect(queueAction(key('a', 'KeyA', { ctrlKey: true }), card)).toBeNull();
    expect(queueAction(key('r', 'KeyR', { metaKey: true }), card)).toBeNull();
    expect(queueAction(key('a', 'KeyA', { altKey: true }), card)).toBeNull();
    expect(queueAction(key('a', 'KeyA', { repeat: true }), card)).toBeNull();
    expect(queueAction(key('Process', 'KeyA', { isComposing: true }), card)).toBeNull();
  });
});

describe('groupByMission', () => {
  const mission = (id: string, title: string): MyPledge['mission'] => ({
    id,
    title,
    channel: 'ch',
    state: 'ACTIVE',
    settledAt: null,
    createdBy: 'u',
  });
  const pledge = (
    id: string,
    m: MyPledge['mission'],
    amount: number,
    at: string,
    captured = 0,
    refunded = 0,
  ): MyPledge =>
    ({
      pledgeId: id,
      amount,
      status: 'HELD',
      onFailure: 'REFUND',
      capturedAmount: captured,
      refundedAmount: refunded,
      createdAt: at,
      mission: m,
    }) as MyPledge;

  it('gives one card per mission with the total and the count, newest activity first', () => {
    const a = mission('a', 'Boss');
    const b = mission('b', 'Ramen');
    const groups = groupByMission([
      pledge('p4', a, 2_000, '2025-01-04T00:00:00Z'),
      pledge('p3', b, 5_000, '2025-01-03T00:00:00Z', 4_500, 500),
      pledge('p2', a, 1_000, '2025-01-02T00:00:00Z'),
      pledge('p1', a, 10_000, '2025-01-01T00:00:00Z'),
    ]);
    expect(
      groups.map((g) => [
        g.mission.title,
        g.pledges.length,
        g.total,
        g.captured,
        g.refunded,
        g.latestAt,
      ]),
    ).toEqual([
      ['Boss', 3, 13_000, 0, 0, '2025-01-04T00:00:00Z'],
      ['Ramen', 1, 5_000, 4_500, 500, '2025-01-03T00:00:00Z'],
    ]);
    expect(groups[0]!.pledges.map((p) => p.pledgeId)).toEqual(['p4', 'p2', 'p1']);
  });

  it('orders by the newest pledge whatever order the pages came in, and takes the freshest mission facts', () => {
    const old: MyPledge['mission'] = { ...mission('a', 'Boss'), state: 'ACTIVE' };
    const fresh: MyPledge['mission'] = { ...mission('a', 'Boss'), state: 'SUCCEEDED' };
    const groups = groupByMission([
      pledge('p1', old, 1_000, '2025-01-01T00:00:00Z'),
      pledge('p9', mission('z', 'Other'), 1_000, '2025-01-05T00:00:00Z'),
      pledge('p2', fresh, 1_000, '2025-01-02T00:00:00Z'),
    ]);
    expect(groups.map((g) => g.mission.id)).toEqual(['z', 'a']);
    expect(groups[1]!.mission.state).toBe('SUCCEEDED');
    expect(groupByMission([])).toEqual([]);
  });
});

describe('entryWords: the wallet history in plain words', () => {
  const entry = (e: Partial<WalletEntry> & Pick<WalletEntry, 'kind' | 'amount'>): WalletEntry =>
    ({ id: 'e', balanceAfter: 0, createdAt: '2025-01-01T00:00:00Z', ...e }) as WalletEntry;
  const line = (w: ReturnType<typeof entryWords>) =>
    [w.label, w.amount, ...w.notes].filter(Boolean).join(' · ');

  it('says a failed mission’s refund with the streamer’s share', () => {
    const e = entry({
      kind: 'partial_capture',
      amount: 9_000,
      capturedAmount: 1_000,
      missionId: 'm',
      missionTitle: '매운 떡볶이',
    });
    expect(line(entryWords(e, ko))).toBe('환불 · +9,000원 · 스트리머 몫 1,000원');
    expect(entryWords(e, ko)).toMatchObject({ title: '매운 떡볶이', sign: 'pos' });
    expect(line(entryWords(e, en))).toBe("Refund · +₩9,000 · streamer's share ₩1,000");
  });

  it('labels holds, captures, charges and cash refunds, and never shows 0원', () => {
    expect(
      line(entryWords(entry({ kind: 'pledge', amount: -10_000, missionTitle: 'T' }), ko)),
    ).toBe('후원 보류 · −10,000원');
    expect(entryWords(entry({ kind: 'pledge', amount: -10_000 }), ko).sign).toBe('neg');
    expect(
      line(entryWords(entry({ kind: 'capture', amount: 0, capturedAmount: 12_000 }), ko)),
    ).toBe('후원 확정 · 12,000원 전달');
    expect(
      line(entryWords(entry({ kind: 'capture', amount: 0, capturedAmount: 12_000 }), en)),
    ).toBe('Pledge captured · ₩12,000 delivered');
    expect(line(entryWords(entry({ kind: 'charge', amount: 30_000 }), ko))).toBe(
      '충전 · +30,000원',
    );
    expect(line(entryWords(entry({ kind: 'refund', amount: 5_000 }), ko))).toBe('환불 · +5,000원');
    expect(line(entryWords(entry({ kind: 'cash_refund', amount: -2_000 }), ko))).toBe(
      '환불 요청 · −2,000원',
    );
    expect(
      line(entryWords(entry({ kind: 'cash_refund_done', amount: 0, capturedAmount: 2_000 }), ko)),
    ).toBe('환불 완료 · 결제 수단으로 2,000원 환불됨');
    expect(
      line(entryWords(entry({ kind: 'cash_refund_done', amount: 0, capturedAmount: 2_000 }), en)),
    ).toBe('Refund completed · ₩2,000 back to your payment method');
    // Older servers without capturedAmount: still words, not 0원.
    expect(line(entryWords(entry({ kind: 'capture', amount: 0 }), ko))).toBe(
      '후원 확정 · 보류했던 후원금이 스트리머에게 전달되었습니다',
    );
    expect(line(entryWords(entry({ kind: 'adjustment', amount: 0 }), ko))).toBe(
      '조정 · 잔액 변동 없음',
    );
    for (const kind of Object.keys(ko.wallet.kinds)) {
      for (const amount of [0, 1_000, -1_000]) {
        for (const dict of [ko, en]) {
          const w = entryWords(entry({ kind: kind as WalletEntry['kind'], amount }), dict);
          expect(w.amount ?? '').not.toMatch(/^[+−-]?(0원|₩0)$/);
          expect(w.amount !== null || w.notes.length > 0, `${kind} ${amount}`).toBe(true);
        }
      }
    }
  });

  it('words point movements with their mission', () => {
    const e = {
      id: 'p',
      kind: 'bet',
      amount: -100,
      balanceAfter: 900,
      missionId: 'm',
      missionTitle: '진행 중인 미션',
      createdAt: '2025-01-01T00:00:00Z',
    } as PointsEntry;
    expect(pointsWords(e, ko)).toMatchObject({
      label: '예측 참여',
      amount: '−100P',
      title: '진행 중인 미션',
      sign: 'neg',
    });
    expect(
      pointsWords({ ...e, kind: 'daily', amount: 100, missionTitle: undefined }, en),
    ).toMatchObject({ label: 'Daily points', amount: '+100P', title: null });
  });
});

describe('mergeNewest and appendOlder: both histories, a page at a time', () => {
  const rows = (...ids: string[]) => ids.map((id) => ({ id }));

  it('takes the first page as it is, and starts over from it', () => {
    expect(mergeNewest([], rows('c', 'b'))).toEqual({ items: rows('c', 'b'), restart: true });
  });

  it('puts only the new rows of the newest page in front', () => {
    expect(mergeNewest(rows('c', 'b', 'a'), rows('e', 'd', 'c'))).toEqual({
      items: rows('e', 'd', 'c', 'b', 'a'),
      restart: false,
    });
  });

  it('starts over when every row of the newest page is new (rows may be missing between)', () => {
    expect(mergeNewest(rows('b', 'a'), rows('z', 'y'))).toEqual({
      items: rows('z', 'y'),
      restart: true,
    });
  });

  it('appends an older page behind, without rows already loaded', () => {
    expect(appendOlder(rows('d', 'c'), rows('c', 'b', 'a'))).toEqual(rows('d', 'c', 'b', 'a'));
  });
});

describe('the new words exist in both languages', () => {
  it('has every studio, wallet and My missions string in Korean and English', () => {
    for (const section of ['studio', 'wallet', 'me'] as const) {
      expect(Object.keys(en[section]).sort()).toEqual(Object.keys(ko[section]).sort());
    }
    expect(ko.studio.accepted('라면')).toBe(
      '"라면" 미션을 수락했습니다. 지금부터 진행 시간이 흐릅니다.',
    );
    expect(en.studio.accepted('Ramen')).toMatch(/^You accepted “Ramen”/);
    expect(ko.me.pledgeCount(3)).toBe('후원 3회');
    expect(en.me.pledgeCount(1)).toBe('1 pledge');
  });
});

describe('recent proposers to block', () => {
  const mission = (createdBy: string, proposerName: string | null) =>
    ({ createdBy, proposerName }) as Mission;
  const block = (userId: string) => ({ userId }) as Block;

  it('names each proposer once, newest first, leaving out the blocked and the nameless', () => {
    const missions = [
      mission('u2', 'Bo'),
      mission('u1', 'Ara'),
      mission('u2', 'Bo'),
      mission('u3', 'Cy'),
      mission('u4', null),
    ];
    expect(recentProposers(missions, [block('u3')])).toEqual([
      { userId: 'u2', name: 'Bo' },
      { userId: 'u1', name: 'Ara' },
    ]);
  });

  it('is empty for a channel without proposals, or when all its proposers are blocked', () => {
    expect(recentProposers([], [])).toEqual([]);
    expect(recentProposers([mission('u1', 'Ara')], [block('u1')])).toEqual([]);
  });
});
