// GENERATED FILE, DO NOT EDIT: the types of GET /api/v1/openapi.json, made by
// openapi-typescript from the server's route schemas. Regenerate after a route
// schema changes with `npm run gen:api-types` (scripts/gen-api-types.mjs);
// test/e2e/api-types.test.ts fails while this file is stale.

export interface paths {
  '/api/v1/auth/register': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Create an account */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** Format: email */
            email: string;
            password: string;
            /** @description One line of text: well-formed Unicode, no control characters, bidi overrides or isolates, or invisible characters (zero-width joiners only inside emoji sequences); surrounding blanks are trimmed */
            displayName: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              user: {
                id: string;
                email: string;
                displayName: string;
                createdAt: string;
                emailVerified: boolean;
              };
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        415: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/login': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Sign in with email and password */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            email: string;
            password: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              accessToken: string;
              refreshToken: string;
              /** @enum {string} */
              tokenType: 'Bearer';
              expiresIn: number;
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        415: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/refresh': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Trade a refresh token for a new pair; the old one is spent
     * @description The token may come from the body or the httpOnly session cookie (none at all is a 401). Reusing a spent token revokes its whole family.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: {
        content: {
          'application/json': {
            refreshToken?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              accessToken: string;
              refreshToken: string;
              /** @enum {string} */
              tokenType: 'Bearer';
              expiresIn: number;
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        415: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/logout': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * End the session of a refresh token
     * @description The token may come from the body or the session cookie. Idempotent: an unknown, spent or missing token still answers 204.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: {
        content: {
          'application/json': {
            refreshToken?: string;
          };
        };
      };
      responses: {
        /** @description Signed out */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        415: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/email-verification': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Mail the signed-in user a link that verifies their address
     * @description The link (`/verify-email?token=…` in the mail's text/plain part) is valid for 24 hours; asking again replaces it. The `admin` role of ADMIN_EMAILS needs a verified address.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: {
        content: {
          'application/json': Record<string, never>;
        };
      };
      responses: {
        /** @description The mail is on its way */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        415: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/email-verification/confirm': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Verify an address with the token of its mailed link
     * @description Needs no session: the token is the proof. Single use; unknown, used, replaced and expired tokens are 400 INVALID_TOKEN.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            token: string;
          };
        };
      };
      responses: {
        /** @description The address is verified */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        415: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/me': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The signed-in user, with roles */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              email: string;
              displayName: string;
              emailVerified: boolean;
              roles: ('viewer' | 'streamer' | 'admin')[];
              channel: string | null;
            };
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/me/limits': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Your spending limits (KRW per KST day and month) and self-exclusion */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              dailyPledgeLimit: number | null;
              monthlyPledgeLimit: number | null;
              /** @description A raised or removed limit waiting its 24 hours, and when it applies */
              pending: {
                dailyPledgeLimit?: number | null;
                monthlyPledgeLimit?: number | null;
                effectiveAt: string;
              } | null;
              selfExcludedUntil: string | null;
            };
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    /** Set your spending limits: lowering applies at once, raising or removing (null) 24 hours later */
    put: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            dailyPledgeLimit?: number | null;
            monthlyPledgeLimit?: number | null;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              dailyPledgeLimit: number | null;
              monthlyPledgeLimit: number | null;
              /** @description A raised or removed limit waiting its 24 hours, and when it applies */
              pending: {
                dailyPledgeLimit?: number | null;
                monthlyPledgeLimit?: number | null;
                effectiveAt: string;
              } | null;
              selfExcludedUntil: string | null;
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/me/self-exclusion': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Exclude yourself from charges, proposals, pledges and bets for 1–365 days (cannot be shortened) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            days: number;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              dailyPledgeLimit: number | null;
              monthlyPledgeLimit: number | null;
              /** @description A raised or removed limit waiting its 24 hours, and when it applies */
              pending: {
                dailyPledgeLimit?: number | null;
                monthlyPledgeLimit?: number | null;
                effectiveAt: string;
              } | null;
              selfExcludedUntil: string | null;
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/wallet': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Cash and points balance */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              available: number;
              held: number;
              /** @enum {string} */
              currency: 'KRW';
              points: number;
              /** @description KRW owed after a provider reversal (0 normally); new charges pay it back first */
              owed: number;
            };
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/wallet/charges': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Charge cash through the payment provider (the sandbox completes at once)
     * @description Accepts an `Idempotency-Key` header: the same key and body replay the first response.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            amount: number;
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              charge: {
                id: string;
                amount: number;
                /** @enum {string} */
                status: 'pending' | 'succeeded' | 'failed';
                /** @description With PAYMENT_PROVIDER=portone: what the browser opens PortOne's checkout with (the charge stays pending until PortOne confirms it) */
                checkout?: {
                  storeId: string;
                  channelKey: string;
                  paymentId: string;
                  orderName: string;
                  totalAmount: number;
                  /** @enum {string} */
                  currency: 'KRW';
                };
              };
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/wallet/refunds': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The caller’s refunds of unused cash, newest first (the last 50) */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              items: {
                id: string;
                amount: number;
                /** @enum {string} */
                status: 'pending' | 'succeeded' | 'partially_succeeded' | 'failed';
                createdAt: string;
              }[];
            };
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    /**
     * Refund unused cash to the payment method it came from (newest charges first)
     * @description Partial cancellations of the newest charges first, through the payment provider. `available` drops by `amount` at once; in the sandbox the refund has `status: "succeeded"` at once, elsewhere it may be `pending` until the provider answers (a refused share returns to `available`). While something is owed after a reversal, only `available − owed` can be refunded. Accepts an `Idempotency-Key` header: the same key and body replay the first response.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            amount: number;
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              refund: {
                id: string;
                amount: number;
                /** @enum {string} */
                status: 'pending' | 'succeeded' | 'partially_succeeded' | 'failed';
                createdAt: string;
              };
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        402: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/wallet/charges/{id}/complete': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Confirm a charge after the provider's checkout (the browser calls it on return)
     * @description Never trusts the browser: with PortOne the payment is fetched from PortOne and checked (store, status, currency, amount) before the wallet is credited, once. Answers the charge as it is now (`pending` while PortOne has not confirmed it). 503 when the provider cannot be reached.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: {
        content: {
          'application/json': Record<string, never>;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              charge: {
                id: string;
                amount: number;
                /** @enum {string} */
                status: 'pending' | 'succeeded' | 'failed';
                /** @description With PAYMENT_PROVIDER=portone: what the browser opens PortOne's checkout with (the charge stays pending until PortOne confirms it) */
                checkout?: {
                  storeId: string;
                  channelKey: string;
                  paymentId: string;
                  orderName: string;
                  totalAmount: number;
                  /** @enum {string} */
                  currency: 'KRW';
                };
              };
            };
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        503: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/wallet/transactions': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Cash movements, newest first, with the available balance after each */
    get: {
      parameters: {
        query?: {
          limit?: number;
          cursor?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              items: {
                id: string;
                kind: string;
                amount: number;
                balanceAfter: number;
                missionId?: string;
                /** @description An extension: the title of the entry's mission, with `missionId` */
                missionTitle?: string;
                createdAt: string;
                /** @description An extension, on a hold made final (`capture`, `partial_capture`, `cash_refund_done`): the part of the hold that left for good — captured for the mission (on a failure, the streamer's share) or paid back to the payment method. `amount` is what came back to `available`. */
                capturedAmount?: number;
              }[];
              nextCursor: string | null;
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/wallet/points/transactions': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Channel point movements, newest first, with the balance after each (an extension)
     * @description `kind`: `signup` (the grant of a new account), `daily` (the daily claim), `bet`, `payout` and `refund` (of predictions, with `missionId`).
     */
    get: {
      parameters: {
        query?: {
          limit?: number;
          cursor?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              items: {
                id: string;
                /** @enum {string} */
                kind: 'signup' | 'daily' | 'bet' | 'payout' | 'refund' | 'adjustment';
                amount: number;
                balanceAfter: number;
                missionId?: string;
                /** @description An extension: the title of the entry's mission, with `missionId` */
                missionTitle?: string;
                createdAt: string;
              }[];
              nextCursor: string | null;
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/points/claim': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Claim the daily 100 channel points (once per calendar day in Korea: KST, Asia/Seoul) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: {
        content: {
          'application/json': Record<string, never>;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              granted: number;
              points: number;
            };
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/payments/webhook': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Payment provider callback (HMAC-signed)
     * @description Signed with the header `x-missionlink-signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. A replayed event changes nothing. `status` is the outcome of a new charge (`succeeded`, `failed`) or `reversed`: a reversal of `amount` KRW of a charge that succeeded, taken from available cash, then from held pledges on undecided missions (newest first, each voided whole), the rest becoming `owed`.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            eventId: string;
            chargeId: string;
            /** @enum {string} */
            status: 'succeeded' | 'failed' | 'reversed';
            amount: number;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** @enum {string} */
              result: 'applied' | 'duplicate';
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/channels': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Channels, most active first (public); `q` keeps those whose handle or display name starts with it
     * @description Most active first: the most open (proposed or active) missions, then the latest mission (or the channel’s creation), then by handle. `q` is a case-insensitive prefix of the handle or the display name (1–50 characters; empty means all).
     */
    get: {
      parameters: {
        query?: {
          limit?: number;
          cursor?: string;
          /** @description One line of text: well-formed Unicode, no control characters, bidi overrides or isolates, or invisible characters (zero-width joiners only inside emoji sequences); surrounding blanks are trimmed */
          q?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              items: {
                handle: string;
                displayName: string;
                settings: {
                  missionMinAmount: number;
                  missionMaxAmount: number;
                  acceptWindowSeconds: number;
                  failureKeepBps: number;
                  blockedWords: string[];
                  disputeWindowSeconds: number;
                  disputeThresholdBps: number;
                };
                createdAt: string;
              }[];
              nextCursor: string | null;
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    /** Create your channel (you become a streamer) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            handle: string;
            /** @description One line of text: well-formed Unicode, no control characters, bidi overrides or isolates, or invisible characters (zero-width joiners only inside emoji sequences); surrounding blanks are trimmed */
            displayName: string;
            settings?: {
              missionMinAmount?: number;
              missionMaxAmount?: number;
              acceptWindowSeconds?: number;
              failureKeepBps?: number;
              blockedWords?: string[];
              disputeWindowSeconds?: number;
              disputeThresholdBps?: number;
            };
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              channel: {
                handle: string;
                displayName: string;
                settings: {
                  missionMinAmount: number;
                  missionMaxAmount: number;
                  acceptWindowSeconds: number;
                  failureKeepBps: number;
                  blockedWords: string[];
                  disputeWindowSeconds: number;
                  disputeThresholdBps: number;
                };
                createdAt: string;
              };
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/channels/{handle}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A channel (public) */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          handle: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              channel: {
                handle: string;
                displayName: string;
                settings: {
                  missionMinAmount: number;
                  missionMaxAmount: number;
                  acceptWindowSeconds: number;
                  failureKeepBps: number;
                  blockedWords: string[];
                  disputeWindowSeconds: number;
                  disputeThresholdBps: number;
                };
                createdAt: string;
              };
            };
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    /** Change your channel (owner only; settings are partial) */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          handle: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description One line of text: well-formed Unicode, no control characters, bidi overrides or isolates, or invisible characters (zero-width joiners only inside emoji sequences); surrounding blanks are trimmed */
            displayName?: string;
            settings?: {
              missionMinAmount?: number;
              missionMaxAmount?: number;
              acceptWindowSeconds?: number;
              failureKeepBps?: number;
              blockedWords?: string[];
              disputeWindowSeconds?: number;
              disputeThresholdBps?: number;
            };
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              channel: {
                handle: string;
                displayName: string;
                settings: {
                  missionMinAmount: number;
                  missionMaxAmount: number;
                  acceptWindowSeconds: number;
                  failureKeepBps: number;
                  blockedWords: string[];
                  disputeWindowSeconds: number;
                  disputeThresholdBps: number;
                };
                createdAt: string;
              };
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    trace?: never;
  };
  '/api/v1/channels/{handle}/missions': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Missions of a channel, newest first (public)
     * @description `state` keeps one state; `ended=true` (an extension) keeps the missions that ended, whatever their outcome.
     */
    get: {
      parameters: {
        query?: {
          limit?: number;
          cursor?: string;
          state?:
            | 'PROPOSED'
            | 'ACTIVE'
            | 'CONFIRMING'
            | 'IN_REVIEW'
            | 'SUCCEEDED'
            | 'FAILED'
            | 'REJECTED'
            | 'EXPIRED'
            | 'CANCELLED';
          ended?: 'true' | 'false';
        };
        header?: never;
        path: {
          handle: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              items: {
                id: string;
                channel: string;
                title: string;
                description: string | null;
                /** @enum {string} */
                state:
                  | 'PROPOSED'
                  | 'ACTIVE'
                  | 'CONFIRMING'
                  | 'IN_REVIEW'
                  | 'SUCCEEDED'
                  | 'FAILED'
                  | 'REJECTED'
                  | 'EXPIRED'
                  | 'CANCELLED';
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
                unit: {
                  label: string;
                  maxUnits: number;
                  units: number;
                } | null;
                proposedOutcome: ('SUCCEEDED' | 'FAILED') | null;
                disputeEndsAt: string | null;
                disputedAmount: number | null;
                proofUrl: string | null;
                note: string | null;
                /** @description An extension: the proposer's display name (as on their first pledge) */
                proposerName: string | null;
                /** @description An extension: the proposal's message, i.e. its first pledge's (blocked words masked; null when none or hidden by the channel owner) */
                proposalMessage: string | null;
              }[];
              nextCursor: string | null;
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    /**
     * Propose a mission; the amount is your first pledge, held at once
     * @description Accepts an `Idempotency-Key` header.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          handle: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description One line of text: well-formed Unicode, no control characters, bidi overrides or isolates, or invisible characters (zero-width joiners only inside emoji sequences); surrounding blanks are trimmed */
            title: string;
            /** @description Text: well-formed Unicode, no control characters except line breaks, no bidi overrides or isolates */
            description?: string;
            amount: number;
            durationSeconds: number;
            /** @enum {string} */
            onFailure?: 'REFUND' | 'DONATE';
            /** @description One line of text: well-formed Unicode, no control characters, bidi overrides or isolates, or invisible characters (zero-width joiners only inside emoji sequences); surrounding blanks are trimmed */
            message?: string;
            unit?: {
              /** @description One line of text: well-formed Unicode, no control characters, bidi overrides or isolates, or invisible characters (zero-width joiners only inside emoji sequences); surrounding blanks are trimmed */
              label: string;
              maxUnits: number;
            };
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              mission: {
                id: string;
                channel: string;
                title: string;
                description: string | null;
                /** @enum {string} */
                state:
                  | 'PROPOSED'
                  | 'ACTIVE'
                  | 'CONFIRMING'
                  | 'IN_REVIEW'
                  | 'SUCCEEDED'
                  | 'FAILED'
                  | 'REJECTED'
                  | 'EXPIRED'
                  | 'CANCELLED';
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
                unit: {
                  label: string;
                  maxUnits: number;
                  units: number;
                } | null;
                proposedOutcome: ('SUCCEEDED' | 'FAILED') | null;
                disputeEndsAt: string | null;
                disputedAmount: number | null;
                proofUrl: string | null;
                note: string | null;
                /** @description An extension: the proposer's display name (as on their first pledge) */
                proposerName: string | null;
                /** @description An extension: the proposal's message, i.e. its first pledge's (blocked words masked; null when none or hidden by the channel owner) */
                proposalMessage: string | null;
              };
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        402: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/missions/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A mission (public) */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              mission: {
                id: string;
                channel: string;
                title: string;
                description: string | null;
                /** @enum {string} */
                state:
                  | 'PROPOSED'
                  | 'ACTIVE'
                  | 'CONFIRMING'
                  | 'IN_REVIEW'
                  | 'SUCCEEDED'
                  | 'FAILED'
                  | 'REJECTED'
                  | 'EXPIRED'
                  | 'CANCELLED';
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
                unit: {
                  label: string;
                  maxUnits: number;
                  units: number;
                } | null;
                proposedOutcome: ('SUCCEEDED' | 'FAILED') | null;
                disputeEndsAt: string | null;
                disputedAmount: number | null;
                proofUrl: string | null;
                note: string | null;
                /** @description An extension: the proposer's display name (as on their first pledge) */
                proposerName: string | null;
                /** @description An extension: the proposal's message, i.e. its first pledge's (blocked words masked; null when none or hidden by the channel owner) */
                proposalMessage: string | null;
              };
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/missions/{id}/pledges': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Pledges of a mission, newest first (public) */
    get: {
      parameters: {
        query?: {
          limit?: number;
          cursor?: string;
        };
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              items: {
                id: string;
                missionId: string;
                /** @description KRW; per unit on a per-unit mission (the hold is amount × maxUnits) */
                amount: number;
                /** @enum {string} */
                status: 'HELD' | 'CAPTURED' | 'REFUNDED' | 'PARTIALLY_REFUNDED';
                /** @enum {string} */
                onFailure: 'REFUND' | 'DONATE';
                message: string | null;
                backerName: string;
                createdAt: string;
              }[];
              nextCursor: string | null;
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    /**
     * Back a mission; the amount is held until the outcome
     * @description Accepts an `Idempotency-Key` header.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            amount: number;
            /** @enum {string} */
            onFailure?: 'REFUND' | 'DONATE';
            /** @description One line of text: well-formed Unicode, no control characters, bidi overrides or isolates, or invisible characters (zero-width joiners only inside emoji sequences); surrounding blanks are trimmed */
            message?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              pledge: {
                id: string;
                missionId: string;
                /** @description KRW; per unit on a per-unit mission (the hold is amount × maxUnits) */
                amount: number;
                /** @enum {string} */
                status: 'HELD' | 'CAPTURED' | 'REFUNDED' | 'PARTIALLY_REFUNDED';
                /** @enum {string} */
                onFailure: 'REFUND' | 'DONATE';
                message: string | null;
                backerName: string;
                createdAt: string;
              };
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        402: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/missions/{id}/accept': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Accept a mission (channel owner only) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: {
        content: {
          'application/json': Record<string, never>;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              mission: {
                id: string;
                channel: string;
                title: string;
                description: string | null;
                /** @enum {string} */
                state:
                  | 'PROPOSED'
                  | 'ACTIVE'
                  | 'CONFIRMING'
                  | 'IN_REVIEW'
                  | 'SUCCEEDED'
                  | 'FAILED'
                  | 'REJECTED'
                  | 'EXPIRED'
                  | 'CANCELLED';
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
                unit: {
                  label: string;
                  maxUnits: number;
                  units: number;
                } | null;
                proposedOutcome: ('SUCCEEDED' | 'FAILED') | null;
                disputeEndsAt: string | null;
                disputedAmount: number | null;
                proofUrl: string | null;
                note: string | null;
                /** @description An extension: the proposer's display name (as on their first pledge) */
                proposerName: string | null;
                /** @description An extension: the proposal's message, i.e. its first pledge's (blocked words masked; null when none or hidden by the channel owner) */
                proposalMessage: string | null;
              };
            };
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/missions/{id}/reject': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Reject a mission (channel owner only) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: {
        content: {
          'application/json': Record<string, never>;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              mission: {
                id: string;
                channel: string;
                title: string;
                description: string | null;
                /** @enum {string} */
                state:
                  | 'PROPOSED'
                  | 'ACTIVE'
                  | 'CONFIRMING'
                  | 'IN_REVIEW'
                  | 'SUCCEEDED'
                  | 'FAILED'
                  | 'REJECTED'
                  | 'EXPIRED'
                  | 'CANCELLED';
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
                unit: {
                  label: string;
                  maxUnits: number;
                  units: number;
                } | null;
                proposedOutcome: ('SUCCEEDED' | 'FAILED') | null;
                disputeEndsAt: string | null;
                disputedAmount: number | null;
                proofUrl: string | null;
                note: string | null;
                /** @description An extension: the proposer's display name (as on their first pledge) */
                proposerName: string | null;
                /** @description An extension: the proposal's message, i.e. its first pledge's (blocked words masked; null when none or hidden by the channel owner) */
                proposalMessage: string | null;
              };
            };
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/missions/{id}/cancel': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Cancel a mission (channel owner only) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: {
        content: {
          'application/json': Record<string, never>;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              mission: {
                id: string;
                channel: string;
                title: string;
                description: string | null;
                /** @enum {string} */
                state:
                  | 'PROPOSED'
                  | 'ACTIVE'
                  | 'CONFIRMING'
                  | 'IN_REVIEW'
                  | 'SUCCEEDED'
                  | 'FAILED'
                  | 'REJECTED'
                  | 'EXPIRED'
                  | 'CANCELLED';
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
                unit: {
                  label: string;
                  maxUnits: number;
                  units: number;
                } | null;
                proposedOutcome: ('SUCCEEDED' | 'FAILED') | null;
                disputeEndsAt: string | null;
                disputedAmount: number | null;
                proofUrl: string | null;
                note: string | null;
                /** @description An extension: the proposer's display name (as on their first pledge) */
                proposerName: string | null;
                /** @description An extension: the proposal's message, i.e. its first pledge's (blocked words masked; null when none or hidden by the channel owner) */
                proposalMessage: string | null;
              };
            };
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/missions/{id}/decision': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Mark an active mission a success or a failure (channel owner only)
     * @description `proofUrl` (https) and `note` are shown to backers. With the channel's `disputeWindowSeconds` above 0 the mission moves to `CONFIRMING` with `proposedOutcome` and `disputeEndsAt`; it enters that outcome when the window ends without enough disputes.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @enum {string} */
            outcome: 'SUCCEEDED' | 'FAILED';
            proofUrl?: string;
            /** @description Text: well-formed Unicode, no control characters except line breaks, no bidi overrides or isolates */
            note?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              mission: {
                id: string;
                channel: string;
                title: string;
                description: string | null;
                /** @enum {string} */
                state:
                  | 'PROPOSED'
                  | 'ACTIVE'
                  | 'CONFIRMING'
                  | 'IN_REVIEW'
                  | 'SUCCEEDED'
                  | 'FAILED'
                  | 'REJECTED'
                  | 'EXPIRED'
                  | 'CANCELLED';
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
                unit: {
                  label: string;
                  maxUnits: number;
                  units: number;
                } | null;
                proposedOutcome: ('SUCCEEDED' | 'FAILED') | null;
                disputeEndsAt: string | null;
                disputedAmount: number | null;
                proofUrl: string | null;
                note: string | null;
                /** @description An extension: the proposer's display name (as on their first pledge) */
                proposerName: string | null;
                /** @description An extension: the proposal's message, i.e. its first pledge's (blocked words masked; null when none or hidden by the channel owner) */
                proposalMessage: string | null;
              };
            };
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/missions/{id}/disputes': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Disputes of a mission, newest first (channel owner only) */
    get: {
      parameters: {
        query?: {
          limit?: number;
          cursor?: string;
        };
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              items: {
                id: string;
                reason: string;
                amount: number;
                createdAt: string;
                backerName: string;
              }[];
              nextCursor: string | null;
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    /**
     * Dispute the decided outcome while its window is open (backers only, once)
     * @description `amount` is your pledged total. When disputed pledges reach the channel's `disputeThresholdBps` of `pledgedAmount`, the mission moves to `IN_REVIEW`.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description Text: well-formed Unicode, no control characters except line breaks, no bidi overrides or isolates */
            reason: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              dispute: {
                id: string;
                reason: string;
                amount: number;
                createdAt: string;
              };
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/missions/{id}/progress': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Report the units done of a per-unit mission: an absolute count that never goes back (channel owner only) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            units: number;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              mission: {
                id: string;
                channel: string;
                title: string;
                description: string | null;
                /** @enum {string} */
                state:
                  | 'PROPOSED'
                  | 'ACTIVE'
                  | 'CONFIRMING'
                  | 'IN_REVIEW'
                  | 'SUCCEEDED'
                  | 'FAILED'
                  | 'REJECTED'
                  | 'EXPIRED'
                  | 'CANCELLED';
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
                unit: {
                  label: string;
                  maxUnits: number;
                  units: number;
                } | null;
                proposedOutcome: ('SUCCEEDED' | 'FAILED') | null;
                disputeEndsAt: string | null;
                disputedAmount: number | null;
                proofUrl: string | null;
                note: string | null;
                /** @description An extension: the proposer's display name (as on their first pledge) */
                proposerName: string | null;
                /** @description An extension: the proposal's message, i.e. its first pledge's (blocked words masked; null when none or hidden by the channel owner) */
                proposalMessage: string | null;
              };
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/pledges/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    /** Change what happens to your pledge if the mission fails, while it is open (its backer only) */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @enum {string} */
            onFailure: 'REFUND' | 'DONATE';
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              pledge: {
                id: string;
                missionId: string;
                /** @description KRW; per unit on a per-unit mission (the hold is amount × maxUnits) */
                amount: number;
                /** @enum {string} */
                status: 'HELD' | 'CAPTURED' | 'REFUNDED' | 'PARTIALLY_REFUNDED';
                /** @enum {string} */
                onFailure: 'REFUND' | 'DONATE';
                message: string | null;
                backerName: string;
                createdAt: string;
              };
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    trace?: never;
  };
  '/api/v1/pledges/{id}/hide-message': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Hide a backer’s message from lists and overlays (channel owner only) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: {
        content: {
          'application/json': Record<string, never>;
        };
      };
      responses: {
        /** @description Hidden */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/channels/{handle}/blocks': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Users your channel blocked, newest first (owner only) */
    get: {
      parameters: {
        query?: {
          limit?: number;
          cursor?: string;
        };
        header?: never;
        path: {
          handle: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              items: {
                userId: string;
                /** @description An extension: the user's display name, as on their pledges */
                displayName: string;
                createdAt: string;
              }[];
              nextCursor: string | null;
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    /** Block a user from proposing, pledging and betting on your channel (owner only) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          handle: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            userId: string;
          };
        };
      };
      responses: {
        /** @description Blocked */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/channels/{handle}/blocks/{userId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Unblock a user (owner only) */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          handle: string;
          userId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Not blocked (any more) */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/me/pledges': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Your pledges with their missions and outcomes, newest first */
    get: {
      parameters: {
        query?: {
          limit?: number;
          cursor?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              items: {
                pledgeId: string;
                amount: number;
                /** @enum {string} */
                status: 'HELD' | 'CAPTURED' | 'REFUNDED' | 'PARTIALLY_REFUNDED';
                /** @enum {string} */
                onFailure: 'REFUND' | 'DONATE';
                capturedAmount: number;
                refundedAmount: number;
                createdAt: string;
                mission: {
                  id: string;
                  title: string;
                  channel: string;
                  /** @enum {string} */
                  state:
                    | 'PROPOSED'
                    | 'ACTIVE'
                    | 'CONFIRMING'
                    | 'IN_REVIEW'
                    | 'SUCCEEDED'
                    | 'FAILED'
                    | 'REJECTED'
                    | 'EXPIRED'
                    | 'CANCELLED';
                  settledAt: string | null;
                  createdBy: string;
                };
              }[];
              nextCursor: string | null;
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/streamer/payouts': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** What each settled mission paid you, net of the platform fee, newest first */
    get: {
      parameters: {
        query?: {
          limit?: number;
          cursor?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              items: {
                missionId: string;
                title: string;
                amount: number;
                fee: number;
                createdAt: string;
              }[];
              nextCursor: string | null;
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/streamer/earnings': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Your earnings as a streamer
     * @description `withdrawable = settled − withdrawn − inFlight`: `withdrawn` counts the amounts of PAID withdrawals, `inFlight` those still held (REQUESTED, PROCESSING).
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              settled: number;
              pending: number;
              withdrawable: number;
              withdrawn: number;
              inFlight: number;
              /** @enum {string} */
              currency: 'KRW';
            };
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/channels/{handle}/stats': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * A channel’s record (public): missions by state, success rate, KRW captured, distinct backers
     * @description `successRate` = SUCCEEDED ÷ (SUCCEEDED + FAILED), from 0 to 1, null before the first outcome; `capturedTotal` = KRW captured from backers (before fees); `backers` = distinct users who ever pledged. Every state is listed, 0 when none.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          handle: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              missions: {
                PROPOSED: number;
                ACTIVE: number;
                CONFIRMING: number;
                IN_REVIEW: number;
                SUCCEEDED: number;
                FAILED: number;
                REJECTED: number;
                EXPIRED: number;
                CANCELLED: number;
              };
              successRate: number | null;
              capturedTotal: number;
              backers: number;
            };
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/channels/{handle}/top-backers': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * A channel’s biggest backers (public; an extension): display name and what they gave or still have held
     * @description `amount` = pledged minus refunded, in KRW, over all the channel’s missions; largest first, ties to the earliest backer. No user ids.
     */
    get: {
      parameters: {
        query?: {
          limit?: number;
        };
        header?: never;
        path: {
          handle: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              items: {
                displayName: string;
                amount: number;
                pledges: number;
              }[];
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/missions/{id}/prediction': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The prediction of a mission (public; a token adds myBet) */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** @enum {string} */
              state: 'OPEN' | 'LOCKED' | 'RESOLVED' | 'REFUNDED';
              pools: {
                SUCCEEDED: number;
                FAILED: number;
              };
              locksAt: string;
              myBet: {
                /** @enum {string} */
                side: 'SUCCEEDED' | 'FAILED';
                points: number;
                payout: number | null;
              } | null;
            };
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/missions/{id}/prediction/lock': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Close betting now (channel owner only)
     * @description `locksAt` becomes the time of the lock; locking an already locked prediction changes nothing.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: {
        content: {
          'application/json': Record<string, never>;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** @enum {string} */
              state: 'OPEN' | 'LOCKED' | 'RESOLVED' | 'REFUNDED';
              pools: {
                SUCCEEDED: number;
                FAILED: number;
              };
              locksAt: string;
              myBet: {
                /** @enum {string} */
                side: 'SUCCEEDED' | 'FAILED';
                points: number;
                payout: number | null;
              } | null;
            };
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/missions/{id}/prediction/bets': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Bet channel points on the outcome (one side per user)
     * @description Accepts an `Idempotency-Key` header. Points only — cash can never be bet.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @enum {string} */
            side: 'SUCCEEDED' | 'FAILED';
            points: number;
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              bet: {
                id: string;
                missionId: string;
                /** @enum {string} */
                side: 'SUCCEEDED' | 'FAILED';
                points: number;
                totalPoints: number;
                createdAt: string;
              };
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        402: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/missions/{id}/events': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Live events of one mission
     * @description Server-sent events (public): `pledge`, `state` and `prediction`, each with an increasing `id`. Reconnect with `Last-Event-ID` (or `?lastEventId=`) to receive exactly the events after it. A comment line every 15 s keeps proxies open. One client address may hold at most 50 streams (of both kinds) at once: more answer 429 `RATE_LIMITED` with `Retry-After`, and a closed stream frees its place at once. A process that holds all the streams it can answers 503 `UNAVAILABLE` with `Retry-After`.
     */
    get: {
      parameters: {
        query?: {
          lastEventId?: string;
        };
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description text/event-stream */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': string;
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        503: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/channels/{handle}/events': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Live events of every mission of a channel (for overlays)
     * @description Server-sent events (public): `pledge`, `state` and `prediction`, each with an increasing `id`. Reconnect with `Last-Event-ID` (or `?lastEventId=`) to receive exactly the events after it. A comment line every 15 s keeps proxies open. One client address may hold at most 50 streams (of both kinds) at once: more answer 429 `RATE_LIMITED` with `Retry-After`, and a closed stream frees its place at once. A process that holds all the streams it can answers 503 `UNAVAILABLE` with `Retry-After`.
     */
    get: {
      parameters: {
        query?: {
          lastEventId?: string;
        };
        header?: never;
        path: {
          handle: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description text/event-stream */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': string;
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        503: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/channels/{handle}/webhooks': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The channel’s webhook endpoints, newest first, without secrets (owner only) */
    get: {
      parameters: {
        query?: {
          limit?: number;
          cursor?: string;
        };
        header?: never;
        path: {
          handle: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              items: {
                id: string;
                url: string;
                events: (
                  | 'mission.proposed'
                  | 'mission.accepted'
                  | 'mission.progress'
                  | 'mission.decided'
                  | 'mission.settled'
                  | 'pledge.created'
                  | 'withdrawal.updated'
                )[];
                /**
                 * @description `disabled` after failing without a success for 3 days (its owner was mailed)
                 * @enum {string}
                 */
                status: 'active' | 'disabled';
                createdAt: string;
              }[];
              nextCursor: string | null;
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    /**
     * Add a webhook endpoint (channel owner only); the secret is shown only in this answer
     * @description Deliveries follow Standard Webhooks: a POST of `{"type","timestamp","data"}` with `webhook-id` (the event id, the same on every retry), `webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed with the base64-decoded secret after `whsec_`). A 2xx answer ends a delivery; otherwise it is retried with backoff (the first retry within 30 s) for 3 days. The URL must be https and resolve only to public addresses (400 `WEBHOOK_URL_NOT_ALLOWED`).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          handle: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            url: string;
            events: (
              | 'mission.proposed'
              | 'mission.accepted'
              | 'mission.progress'
              | 'mission.decided'
              | 'mission.settled'
              | 'pledge.created'
              | 'withdrawal.updated'
            )[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              webhook: {
                id: string;
                url: string;
                events: (
                  | 'mission.proposed'
                  | 'mission.accepted'
                  | 'mission.progress'
                  | 'mission.decided'
                  | 'mission.settled'
                  | 'pledge.created'
                  | 'withdrawal.updated'
                )[];
                /**
                 * @description `disabled` after failing without a success for 3 days (its owner was mailed)
                 * @enum {string}
                 */
                status: 'active' | 'disabled';
                createdAt: string;
                /** @description `whsec_…`: shown only here */
                secret: string;
              };
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/channels/{handle}/webhooks/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Delete a webhook endpoint with its pending deliveries (owner only) */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          handle: string;
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Deleted */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/channels/{handle}/webhooks/{id}/test': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Send a `webhook.test` event to the endpoint (owner only); its attempts show in the delivery log */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          handle: string;
          id: string;
        };
        cookie?: never;
      };
      requestBody?: {
        content: {
          'application/json': Record<string, never>;
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              eventId: string;
            };
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/channels/{handle}/webhooks/{id}/deliveries': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The endpoint’s delivery attempts, newest first (owner only) */
    get: {
      parameters: {
        query?: {
          limit?: number;
          cursor?: string;
        };
        header?: never;
        path: {
          handle: string;
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              items: {
                /** @description The `webhook-id` header: the event id, the same on every attempt */
                eventId: string;
                type: string;
                attempt: number;
                /** @enum {string} */
                status: 'succeeded' | 'failed';
                responseStatus: number | null;
                at: string;
                /** @description Why no answer came (timeout, refused address, connection error) */
                error: string | null;
                /** @description The first few hundred bytes of the answer */
                responseExcerpt: string | null;
                durationMs: number;
              }[];
              nextCursor: string | null;
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/ops/summary': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Operational figures for the ops page (admin only)
     * @description Counters are cumulative since the process started; compute rates from consecutive polls. `business` is the platform’s money and work now.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              at: string;
              uptimeSeconds: number;
              http: {
                requests: number;
                errors5xx: number;
                latencySecondsSum: number;
                latencyCount: number;
              };
              pledges: {
                count: number;
                amount: number;
              };
              settlement: {
                settledTotal: number;
                pendingJobs: number;
                lagSecondsSum: number;
                lagCount: number;
              };
              outbox: {
                pending: number;
                oldestAgeSeconds: number;
              };
              mail: {
                pending: number;
                sent: number;
                failed: number;
              };
              sse: {
                clients: number;
              };
              business: {
                /** @description Today in Korea (Asia/Seoul), YYYY-MM-DD: the day of capturedToday and feesToday */
                day: string;
                /** @description Pledges whose cash is held now (missions not settled yet) */
                held: {
                  count: number;
                  amount: number;
                };
                /** @description KRW captured from backers today (KST), before fees, by the missions settled today */
                capturedToday: number;
                /** @description The platform fees on capturedToday */
                feesToday: number;
                /** @description Missions of every channel by state */
                missions: {
                  [key: string]: number;
                };
                /** @description Withdrawals waiting for an admin (REQUESTED) */
                withdrawalsInReview: {
                  count: number;
                  amount: number;
                };
              };
              ledger: {
                last:
                  | ({
                      ok: boolean;
                      checkedAt: string;
                    } & {
                      [key: string]: unknown;
                    })
                  | null;
              };
            };
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/ops/history': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * What the ops page draws after a reload (admin only)
     * @description This process’s samples of the summary’s counters (every `intervalSeconds`, the last hour, from the first look on; not the business figures) and the captured cash and fees of the last 14 KST days.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              intervalSeconds: number;
              samples: {
                at: string;
                uptimeSeconds: number;
                http: {
                  requests: number;
                  errors5xx: number;
                  latencySecondsSum: number;
                  latencyCount: number;
                };
                pledges: {
                  count: number;
                  amount: number;
                };
                settlement: {
                  settledTotal: number;
                  pendingJobs: number;
                  lagSecondsSum: number;
                  lagCount: number;
                };
                outbox: {
                  pending: number;
                  oldestAgeSeconds: number;
                };
                mail: {
                  pending: number;
                  sent: number;
                  failed: number;
                };
                sse: {
                  clients: number;
                };
              }[];
              days: {
                day: string;
                captured: number;
                fees: number;
              }[];
            };
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/ops/ledger/verify': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Verify the books now (admin only) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: {
        content: {
          'application/json': Record<string, never>;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              ok: boolean;
            } & {
              [key: string]: unknown;
            };
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/ops/missions': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Missions of every channel, newest first, e.g. ?state=IN_REVIEW (admin only) */
    get: {
      parameters: {
        query?: {
          limit?: number;
          cursor?: string;
          state?:
            | 'PROPOSED'
            | 'ACTIVE'
            | 'CONFIRMING'
            | 'IN_REVIEW'
            | 'SUCCEEDED'
            | 'FAILED'
            | 'REJECTED'
            | 'EXPIRED'
            | 'CANCELLED';
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              items: {
                id: string;
                channel: string;
                title: string;
                description: string | null;
                /** @enum {string} */
                state:
                  | 'PROPOSED'
                  | 'ACTIVE'
                  | 'CONFIRMING'
                  | 'IN_REVIEW'
                  | 'SUCCEEDED'
                  | 'FAILED'
                  | 'REJECTED'
                  | 'EXPIRED'
                  | 'CANCELLED';
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
                unit: {
                  label: string;
                  maxUnits: number;
                  units: number;
                } | null;
                proposedOutcome: ('SUCCEEDED' | 'FAILED') | null;
                disputeEndsAt: string | null;
                disputedAmount: number | null;
                proofUrl: string | null;
                note: string | null;
                /** @description An extension: the proposer's display name (as on their first pledge) */
                proposerName: string | null;
                /** @description An extension: the proposal's message, i.e. its first pledge's (blocked words masked; null when none or hidden by the channel owner) */
                proposalMessage: string | null;
              }[];
              nextCursor: string | null;
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/ops/missions/{id}/disputes': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Disputes of a mission, newest first (admin only) */
    get: {
      parameters: {
        query?: {
          limit?: number;
          cursor?: string;
        };
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              items: {
                id: string;
                reason: string;
                amount: number;
                createdAt: string;
                backerName: string;
              }[];
              nextCursor: string | null;
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/ops/missions/{id}/resolve': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Resolve a disputed mission (IN_REVIEW): it enters the outcome and settles (admin only) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @enum {string} */
            outcome: 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              mission: {
                id: string;
                channel: string;
                title: string;
                description: string | null;
                /** @enum {string} */
                state:
                  | 'PROPOSED'
                  | 'ACTIVE'
                  | 'CONFIRMING'
                  | 'IN_REVIEW'
                  | 'SUCCEEDED'
                  | 'FAILED'
                  | 'REJECTED'
                  | 'EXPIRED'
                  | 'CANCELLED';
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
                unit: {
                  label: string;
                  maxUnits: number;
                  units: number;
                } | null;
                proposedOutcome: ('SUCCEEDED' | 'FAILED') | null;
                disputeEndsAt: string | null;
                disputedAmount: number | null;
                proofUrl: string | null;
                note: string | null;
                /** @description An extension: the proposer's display name (as on their first pledge) */
                proposerName: string | null;
                /** @description An extension: the proposal's message, i.e. its first pledge's (blocked words masked; null when none or hidden by the channel owner) */
                proposalMessage: string | null;
              };
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/ops/users/{id}/release-holds': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Release every held pledge of a user on undecided missions, e.g. at a guardian’s request (admin only; audited)
     * @description Each pledge is voided whole, as a provider reversal would: the money is back in the user’s available cash, mission totals drop, live events say so.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description One line of text: well-formed Unicode, no control characters, bidi overrides or isolates, or invisible characters (zero-width joiners only inside emoji sequences); surrounding blanks are trimmed */
            reason: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              released: number;
              amount: number;
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/streamer/payout-account': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Your payout account (streamer only); 404 when none is registered */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              payoutAccount: {
                bankCode: string;
                accountNumberMasked: string;
                holderName: string;
                verifiedAt: string;
              };
            };
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    /**
     * Register the bank account withdrawals are paid to (streamer only)
     * @description The payout provider verifies the account (the sandbox refuses numbers ending in `0000`: 422 `PAYOUT_ACCOUNT_INVALID`). Only the last 4 digits are kept and shown.
     */
    put: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            bankCode: string;
            accountNumber: string;
            /** @description One line of text: well-formed Unicode, no control characters, bidi overrides or isolates, or invisible characters (zero-width joiners only inside emoji sequences); surrounding blanks are trimmed */
            holderName: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              payoutAccount: {
                bankCode: string;
                accountNumberMasked: string;
                holderName: string;
                verifiedAt: string;
              };
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/streamer/withdrawal-policy': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The withdrawal rules of this deployment, to show before confirming (signed in)
     * @description `minAmount` = WITHDRAWAL_MIN_KRW, `fee` = WITHDRAWAL_FEE_KRW (per withdrawal; `netAmount = amount − fee`), `reviewAbove` = WITHDRAWAL_REVIEW_ABOVE_KRW.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              minAmount: number;
              fee: number;
              reviewAbove: number;
              /** @enum {string} */
              currency: 'KRW';
            };
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/streamer/withdrawals': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Your withdrawals, newest first (streamer only) */
    get: {
      parameters: {
        query?: {
          limit?: number;
          cursor?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              items: {
                id: string;
                amount: number;
                fee: number;
                netAmount: number;
                /** @enum {string} */
                status: 'REQUESTED' | 'PROCESSING' | 'PAID' | 'FAILED' | 'REJECTED';
                requestedAt: string;
                decidedAt: string | null;
                paidAt: string | null;
                failureReason: string | null;
              }[];
              nextCursor: string | null;
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    /**
     * Withdraw earnings to your payout account (streamer only)
     * @description Held from the earnings at once (`inFlight`). `amount` ≥ WITHDRAWAL_MIN_KRW (10000) and ≤ `withdrawable` (else 402 `INSUFFICIENT_FUNDS`); `fee` = WITHDRAWAL_FEE_KRW (0), `netAmount = amount − fee`. Amounts above WITHDRAWAL_REVIEW_ABOVE_KRW (1000000) wait for an admin (`REQUESTED`); smaller ones go to the provider at once (`PROCESSING`), then `PAID` or `FAILED`. Accepts an `Idempotency-Key` header.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            amount: number;
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              withdrawal: {
                id: string;
                amount: number;
                fee: number;
                netAmount: number;
                /** @enum {string} */
                status: 'REQUESTED' | 'PROCESSING' | 'PAID' | 'FAILED' | 'REJECTED';
                requestedAt: string;
                decidedAt: string | null;
                paidAt: string | null;
                failureReason: string | null;
              };
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        402: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/ops/withdrawals': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Every streamer's withdrawals with the channel handle, newest first (admin only) */
    get: {
      parameters: {
        query?: {
          limit?: number;
          cursor?: string;
          status?: 'REQUESTED' | 'PROCESSING' | 'PAID' | 'FAILED' | 'REJECTED';
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              items: {
                id: string;
                amount: number;
                fee: number;
                netAmount: number;
                /** @enum {string} */
                status: 'REQUESTED' | 'PROCESSING' | 'PAID' | 'FAILED' | 'REJECTED';
                requestedAt: string;
                decidedAt: string | null;
                paidAt: string | null;
                failureReason: string | null;
                /** @description the streamer's channel handle */
                channel: string;
                /** @description the same handle, under the name the ops page uses */
                handle: string;
                userId: string;
                bankCode: string;
                accountNumberMasked: string;
              }[];
              nextCursor: string | null;
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/ops/withdrawals/{id}/approve': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Send a REQUESTED withdrawal to the payout provider (admin only) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: {
        content: {
          'application/json': Record<string, never>;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              withdrawal: {
                id: string;
                amount: number;
                fee: number;
                netAmount: number;
                /** @enum {string} */
                status: 'REQUESTED' | 'PROCESSING' | 'PAID' | 'FAILED' | 'REJECTED';
                requestedAt: string;
                decidedAt: string | null;
                paidAt: string | null;
                failureReason: string | null;
                /** @description the streamer's channel handle */
                channel: string;
                /** @description the same handle, under the name the ops page uses */
                handle: string;
                userId: string;
                bankCode: string;
                accountNumberMasked: string;
              };
            };
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/ops/withdrawals/{id}/reject': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Reject a REQUESTED withdrawal; the amount is withdrawable again (admin only)
     * @description The reason is shown to the streamer as the withdrawal's `failureReason` (and in the mail).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description One line of text: well-formed Unicode, no control characters, bidi overrides or isolates, or invisible characters (zero-width joiners only inside emoji sequences); surrounding blanks are trimmed */
            reason: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              withdrawal: {
                id: string;
                amount: number;
                fee: number;
                netAmount: number;
                /** @enum {string} */
                status: 'REQUESTED' | 'PROCESSING' | 'PAID' | 'FAILED' | 'REJECTED';
                requestedAt: string;
                decidedAt: string | null;
                paidAt: string | null;
                failureReason: string | null;
                /** @description the streamer's channel handle */
                channel: string;
                /** @description the same handle, under the name the ops page uses */
                handle: string;
                userId: string;
                bankCode: string;
                accountNumberMasked: string;
              };
            };
          };
        };
        /** @description Problem details */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
        /** @description Problem details */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/problem+json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    /** @description RFC 9457 problem details with a catalogue code */
    Problem: {
      type: string;
      title: string;
      status: number;
      detail: string;
      /** @enum {string} */
      code:
        | 'VALIDATION_FAILED'
        | 'MALFORMED_JSON'
        | 'WEBHOOK_URL_NOT_ALLOWED'
        | 'UNAUTHENTICATED'
        | 'INVALID_CREDENTIALS'
        | 'INVALID_REFRESH_TOKEN'
        | 'INVALID_TOKEN'
        | 'INVALID_SIGNATURE'
        | 'INSUFFICIENT_FUNDS'
        | 'INSUFFICIENT_POINTS'
        | 'FORBIDDEN'
        | 'SELF_EXCLUDED'
        | 'BLOCKED_BY_CHANNEL'
        | 'NOT_FOUND'
        | 'METHOD_NOT_ALLOWED'
        | 'EMAIL_TAKEN'
        | 'HANDLE_TAKEN'
        | 'ALREADY_STREAMER'
        | 'ALREADY_CLAIMED'
        | 'MISSION_NOT_OPEN'
        | 'MISSION_NOT_PROPOSED'
        | 'MISSION_NOT_ACTIVE'
        | 'MISSION_ALREADY_DECIDED'
        | 'MISSION_ALREADY_ENDED'
        | 'ACCEPT_WINDOW_CLOSED'
        | 'DEADLINE_PASSED'
        | 'SIDE_ALREADY_CHOSEN'
        | 'PREDICTION_LOCKED'
        | 'SPENDING_LIMIT_REACHED'
        | 'PROGRESS_NOT_MONOTONIC'
        | 'NOT_A_BACKER'
        | 'MISSION_NOT_CONFIRMING'
        | 'ALREADY_DISPUTED'
        | 'MISSION_NOT_IN_REVIEW'
        | 'REQUEST_IN_PROGRESS'
        | 'PAYOUT_ACCOUNT_MISSING'
        | 'WITHDRAWAL_NOT_REQUESTED'
        | 'PAYLOAD_TOO_LARGE'
        | 'UNSUPPORTED_MEDIA_TYPE'
        | 'IDEMPOTENCY_KEY_REUSED'
        | 'PAYOUT_ACCOUNT_INVALID'
        | 'RATE_LIMITED'
        | 'INTERNAL'
        | 'UNAVAILABLE';
      errors?: {
        path: string;
        message: string;
      }[];
    };
  };
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
