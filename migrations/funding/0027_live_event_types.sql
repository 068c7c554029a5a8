-- Live streams carry a per-unit mission's progress and the owner's
-- moderation (a hidden message) besides pledges, states and predictions.
ALTER TABLE live_events DROP CONSTRAINT live_events_type_check;
ALTER TABLE live_events ADD CONSTRAINT live_events_type_check CHECK (type IN ('pledge', 'state', 'prediction', 'progress', 'moderation'));
