// The wallet's outbox topics that other modules follow (the notifier mails
// them; deploy/base/worker-scaling scales the notifier on their backlog).

/** A refund of unused cash finished: succeeded, partly or refused (payload: refundId, userId, amount, refunded, status). */
export const REFUND_COMPLETED = 'wallet.refund_completed';
/** The payment provider reversed a charge (payload: reversalId, userId, chargeId, …). */
export const REVERSED = 'wallet.reversed';
