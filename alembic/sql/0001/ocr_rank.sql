-- aio.ocr_rank(tsv, q): revision 0001.
-- Replaced by 0004/ocr_rank.sql, whose downgrade restores this one.
--
-- Word matches (A) weigh ten times character matches (D); longer documents are damped (log length).

CREATE OR REPLACE FUNCTION aio.ocr_rank(tsv tsvector, q tsquery) RETURNS real
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT ts_rank_cd('{0.1, 0.2, 0.4, 1.0}', tsv, q, 1) $$;
