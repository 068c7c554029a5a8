// PortOne's checkout, when the server's payment provider is PortOne: the
// charge answer carries `checkout` (store, channel, payment id, amount), and
// the bundled @portone/browser-sdk opens PortOne's payment window with it.
// The result the window reports is only a hint: the server confirms the
// payment with PortOne itself (POST /wallet/charges/:id/complete) before the
// wallet is credited. The SDK is loaded on first use only (its own chunk,
// served by us), so the sandbox flow never loads it.
import type { ApiJson } from './types.ts';

export type Checkout = NonNullable<ApiJson<'/api/v1/wallet/charges', 'post'>['charge']['checkout']>;

export type CheckoutResult =
  { kind: 'paid' } | { kind: 'redirected' } | { kind: 'cancelled'; message: string | undefined };

/** Where a mobile checkout returns to: the wallet page, which completes the charge (see pendingReturn). */
const returnUrl = (paymentId: string) =>
  `${location.origin}/wallet?paymentId=${encodeURIComponent(paymentId)}`;

/** Opens PortOne's checkout for a charge. */
export async function openCheckout(checkout: Checkout, lang: 'ko' | 'en'): Promise<CheckoutResult> {
  const PortOne = await import('@portone/browser-sdk/v2');
  const request = {
    storeId: checkout.storeId,
    channelKey: checkout.channelKey,
    paymentId: checkout.paymentId,
    orderName: checkout.orderName,
    totalAmount: checkout.totalAmount,
    currency: 'KRW',
    payMethod: 'CARD',
    redirectUrl: returnUrl(checkout.paymentId),
    locale: lang === 'en' ? 'EN_US' : 'KO_KR',
  } as Parameters<typeof PortOne.requestPayment>[0];
  const response = await PortOne.requestPayment(request);
  // Undefined: the page is being redirected (mobile); the wallet page completes it on return.
  if (!response) return { kind: 'redirected' };
  if (response.code !== undefined) return { kind: 'cancelled', message: response.message };
  return { kind: 'paid' };
}

/** The payment id a mobile checkout came back with (…/wallet?paymentId=…[&code=…]), if any; removes it from the address. */
export function pendingReturn(): { paymentId: string; failed: boolean } | null {
  const params = new URLSearchParams(location.search);
  const paymentId = params.get('paymentId');
  if (!paymentId) return null;
  const failed = params.has('code');
  history.replaceState(null, '', location.pathname);
  return { paymentId, failed };
}
