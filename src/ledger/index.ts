// Public surface of the ledger: a library used inside the funding database
// by wallet, missions, predictions and settlement. No HTTP.
export {
  ACCOUNT_CODES,
  DEBITS_MUST_NOT_EXCEED_CREDITS,
  balancesOf,
  ensureAccount,
  ensureAccounts,
  type AccountCode,
  type AccountRef,
  type Balances,
  type LedgerName,
} from './accounts.ts';
export { createTransfer, ledgerErrorOf, lockAccounts, resolvePending, transferCall, transfersCall, LedgerError, PENDING, POST_PENDING, VOID_PENDING, type TransferInput, type Resolution } from './transfers.ts';
export { verifyLedger, verifyAndRecord, lastVerification, type LedgerCheck, type LedgerReport, type LedgerProblem } from './verify.ts';
