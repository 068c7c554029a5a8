-- A result mail says what its backer chose on failure: the part of their
-- pledges they chose to give anyway (DONATE), in KRW.
ALTER TABLE notifications ADD COLUMN donated bigint NOT NULL DEFAULT 0;
