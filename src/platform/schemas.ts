import { z } from 'zod';
import { problemResponses } from './http.ts';

/** A KRW or points amount: a positive safe integer within [min, max]. */
export const amount = (min: number, max: number) =>
  z
    .number()
    .int('must be an integer')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

// Query strings tolerate unknown parameters (cache-busters, tracking); bodies do not.
export const Pagination = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

export const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const Uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be an id');

/** Body of POSTs that take none: empty, or `{}`. */
export const NoBody = z.strictObject({}).optional();

/** Error responses of a route, documented as application/problem+json. */
export const problems = problemResponses;
