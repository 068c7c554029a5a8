// PortOne's partner settlement (platform API) as the payout provider
// (PAYOUT_PROVIDER=portone), through the official server SDK.
//
// PortOne has no "send this amount to this account" call. Money leaves through
// its platform settlement: a partner (the payee, with a verified account) is
// owed transfers (정산건); PortOne's bulk payouts (일괄 지급, run from its
// console — the SDK can only read them) pay each partner what it is owed. So:
// - a payout account is checked with PortOne's account-holder lookup and
//   becomes a partner (created once, its id derived from the account);
// - a withdrawal becomes one manual transfer of its net amount to that
//   partner, its memo naming the withdrawal. The create call takes no
//   idempotency key, so the transfer is first looked up by that memo: asked
//   again (timeout, crash before our commit, another worker) we find it and
//   never create a second one;
// - its answer is the payout PortOne made of that transfer (the transfer's
//   payoutId): SUCCEEDED is paid; FAILED, CANCELLED or STOPPED is failed only
//   once the transfer is deleted at PortOne, so no later bulk payout can pay it
//   after we gave the money back (if PortOne refuses the deletion, the
//   withdrawal stays PROCESSING for an operator: the oldest-processing gauge).
import { createHash } from 'node:crypto';
import type { Common, Platform } from '@portone/server-sdk';
import type { PlatformClient } from '@portone/server-sdk/platform';
import type { BankAccount, PayoutProvider, PayoutStatus, ProviderPayout, Verification } from './provider.ts';

export interface PortOnePayoutSettings {
  apiSecret: string;
  /** PortOne's API origin (PORTONE_API_URL; a local fake in tests). */
  apiUrl: string;
  /** The platform contract new partners get (PORTONE_PLATFORM_CONTRACT_ID): creating a partner requires one. */
  contractId: string;
  /** Between two looks at a withdrawal PortOne has not paid yet (bulk payouts run on PortOne's schedule, not ours). */
  recheckMs?: number;
}

/** The bank codes streamers type (KFTC 3-digit codes) as PortOne's Bank enum. */
export const PORTONE_BANKS: Record<string, Common.Bank> = {
  '002': 'KDB', '003': 'IBK', '004': 'KOOKMIN', '007': 'SUHYUP', '011': 'NONGHYUP', '012': 'LOCAL_NONGHYUP',
  '020': 'WOORI', '023': 'STANDARD_CHARTERED', '027': 'CITI', '031': 'DAEGU', '032': 'BUSAN', '034': 'KWANGJU',
  '035': 'JEJU', '037': 'JEONBUK', '039': 'KYONGNAM', '045': 'KFCC', '048': 'SHINHYUP', '050': 'SAVINGS_BANK',
  '064': 'NFCF', '071': 'POST', '081': 'HANA', '088': 'SHINHAN', '089': 'K_BANK', '090': 'KAKAO', '092': 'TOSS',
};

/** How a transfer's memo names its withdrawal (and how we find it again). */
const MEMO_PREFIX = 'MissionLink withdrawal ';
const PAGE_SIZE = 1000;
/** Our calls must end well within the payout worker's 15 s claim. */
const CALL_DEADLINE_MS = 10_000;
const FAILED_PAYOUT = new Set(['FAILED', 'CANCELLED', 'STOPPED']);

const errorType = (err: unknown): string | undefined => (err as { data?: { type?: string } } | null)?.data?.type;
const sameName = (a: string, b: string) => a.replace(/\s+/g, '') === b.replace(/\s+/g, '');
/** A calendar day in Korea (PortOne's settlement dates). */
const seoulDay = (d: Date) => new Date(d.getTime() + 9 * 3_600_000).toISOString().slice(0, 10);

function deadline<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`PortOne did not answer ${what} within ${CALL_DEADLINE_MS} ms`)), CALL_DEADLINE_MS);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * The payout provider on PortOne's platform API (see the top of this file).
 * @example const provider = new PortOnePayoutProvider({ apiSecret, apiUrl: 'https://api.portone.io', contractId });
 */
export class PortOnePayoutProvider implements PayoutProvider {
  readonly name = 'portone';
  /** Deleted at PortOne when its payout fails (see above): a FAILED withdrawal leaves no transfer to report. */
  readonly reportsFailedPayouts = false;
  readonly recheckMs: number;
  private platform: Promise<PlatformClient> | undefined;

  constructor(private readonly settings: PortOnePayoutSettings) {
    this.recheckMs = settings.recheckMs ?? 60_000;
  }

  /** The SDK's platform client, loaded on first use (importing the SDK is slow; see src/wallet/portone.ts). */
  private get client(): Promise<PlatformClient> {
    const { apiSecret, apiUrl } = this.settings;
    return (this.platform ??= import('@portone/server-sdk/platform').then((sdk) => sdk.PlatformClient({ secret: apiSecret, baseUrl: apiUrl })));
  }

  async verifyAccount(account: BankAccount): Promise<Verification> {
    const bank = PORTONE_BANKS[account.bankCode];
    if (!bank) return { ok: false, reason: `PortOne does not pay out to bank code ${account.bankCode}` };
    let holder: Platform.Account.PlatformAccountHolder;
    try {
      holder = await deadline((await this.client).account.getPlatformAccountHolder({ bank, accountNumber: account.accountNumber }), 'the account-holder lookup');
    } catch (err) {
      const type = errorType(err);
      if (type === 'INVALID_REQUEST' || type === 'PLATFORM_EXTERNAL_API_FAILED' || type === 'PLATFORM_NOT_SUPPORTED_BANK') {
        return { ok: false, reason: `The bank does not confirm this account (${type})` };
      }
      throw err;
    }
    if (!sameName(holder.holderName, account.holderName)) return { ok: false, reason: 'The account holder differs from the name given' };
    // One partner per account: the same account is the same partner, created once.
    const id = `missionlink-${createHash('sha256').update(`${bank}:${account.accountNumber}`).digest('hex').slice(0, 32)}`;
    try {
      await deadline(
        (await this.client).partner.createPlatformPartner({
          id,
          name: account.holderName,
          contact: { name: account.holderName, email: `payouts+${id}@missionlink.invalid` },
          account: { bank, currency: 'KRW', number: account.accountNumber, holder: holder.holderName, accountVerificationId: holder.accountVerificationId },
          defaultContractId: this.settings.contractId,
          tags: ['missionlink-streamer'],
          type: { nonWhtPayer: {} },
        }),
        'the partner creation',
      );
    } catch (err) {
      if (errorType(err) !== 'PLATFORM_PARTNER_ID_ALREADY_EXISTS') throw err;
    }
    return { ok: true, ref: id };
  }

  async payout(req: { idempotencyKey: string; recipientRef: string; amount: number }): Promise<PayoutStatus> {
    const memo = `${MEMO_PREFIX}${req.idempotencyKey}`;
    let transferId = (await this.findTransfers({ keyword: { transferMemo: memo } })).find((t) => t.memo === memo)?.id;
    if (!transferId) {
      const created = await deadline(
        (await this.client).transfer.createPlatformManualTransfer({ partnerId: req.recipientRef, memo, settlementAmount: req.amount, settlementDate: seoulDay(new Date()) }),
        'the transfer creation',
      );
      transferId = created.transfer.id;
    }
    const transfer = await deadline((await this.client).transfer.getPlatformTransfer({ id: transferId }), 'the transfer lookup');
    if (transfer.type !== 'MANUAL') throw new Error(`PortOne transfer ${transferId} is not a manual transfer`);
    const t = transfer as Platform.Transfer.PlatformManualTransfer;
    if (t.settlementAmount !== req.amount || t.partner.id !== req.recipientRef) throw new Error(`PortOne transfer ${transferId} differs from withdrawal ${req.idempotencyKey}`);
    if (!t.payoutId) return { status: 'processing' };
    const payout = (await this.payouts({ payoutIds: [t.payoutId], criteria: {} }))[0];
    if (!payout) return { status: 'processing' };
    if (payout.status === 'SUCCEEDED') return { status: 'paid', providerRef: payout.id };
    if (!FAILED_PAYOUT.has(payout.status)) return { status: 'processing' };
    try {
      await deadline((await this.client).transfer.deletePlatformTransfer({ id: transferId }), 'the transfer deletion');
    } catch (err) {
      if (errorType(err) === 'PLATFORM_TRANSFER_NON_DELETABLE_STATUS') {
        throw new Error(`PortOne payout ${payout.id} is ${payout.status} but its transfer ${transferId} cannot be deleted: an operator must settle it at PortOne`);
      }
      if (errorType(err) !== 'PLATFORM_TRANSFER_NOT_FOUND') throw err;
    }
    return { status: 'failed', reason: `PortOne payout ${payout.status.toLowerCase()}${payout.failReason ? `: ${payout.failReason}` : ''}` };
  }

  /**
   * Our transfers settled on the days of [from, to) (Korean dates, so a little
   * wider than the window: reconciliation matches them by withdrawal id), each
   * with the state of the payout PortOne made of it.
   */
  async listPayouts(range: { from: Date; to: Date }): Promise<ProviderPayout[]> {
    const summaries = (
      await this.findTransfers({ settlementDateRange: { from: seoulDay(range.from), until: seoulDay(new Date(range.to.getTime() - 1)) }, keyword: { transferMemo: MEMO_PREFIX } })
    ).filter((t) => t.memo?.startsWith(MEMO_PREFIX));
    const client = await this.client;
    const transfers = await Promise.all(summaries.map((s) => deadline(client.transfer.getPlatformTransfer({ id: s.id }), 'the transfer lookup')));
    const payoutIds = [...new Set(transfers.map((t) => (t as Platform.Transfer.PlatformManualTransfer).payoutId).filter((id): id is string => !!id))];
    const payouts = new Map(payoutIds.length ? (await this.payouts({ payoutIds, criteria: {} })).map((p) => [p.id, p]) : []);
    return summaries.map((s, i) => {
      const p = payouts.get((transfers[i] as Platform.Transfer.PlatformManualTransfer).payoutId ?? '');
      const status: ProviderPayout['status'] = p?.status === 'SUCCEEDED' ? 'paid' : p && FAILED_PAYOUT.has(p.status) ? 'failed' : 'processing';
      return { idempotencyKey: s.memo!.slice(MEMO_PREFIX.length), amount: s.settlementAmount, status, createdAt: `${s.settlementDate}T00:00:00+09:00` };
    });
  }

  /** Our manual transfers matching `filter`, every page. */
  private async findTransfers(filter: Platform.Transfer.PlatformTransferFilterInput): Promise<Platform.Transfer.PlatformManualTransferSummary[]> {
    const out: Platform.Transfer.PlatformManualTransferSummary[] = [];
    for (let number = 0; ; number++) {
      const res = await deadline((await this.client).transfer.getPlatformTransferSummaries({ page: { number, size: PAGE_SIZE }, filter: { ...filter, types: ['MANUAL'] } }), 'the transfer search');
      for (const t of res.transferSummaries) if (t.type === 'MANUAL') out.push(t as Platform.Transfer.PlatformManualTransferSummary);
      if ((number + 1) * PAGE_SIZE >= res.page.totalCount) return out;
    }
  }

  private async payouts(filter: Platform.Payout.PlatformPayoutFilterInput): Promise<Platform.Payout.PlatformPayout[]> {
    const out: Platform.Payout.PlatformPayout[] = [];
    for (let number = 0; ; number++) {
      const res = await deadline((await this.client).payout.getPlatformPayouts({ page: { number, size: PAGE_SIZE }, filter }), 'the payout lookup');
      out.push(...res.items);
      if ((number + 1) * PAGE_SIZE >= res.page.totalCount) return out;
    }
  }
}
