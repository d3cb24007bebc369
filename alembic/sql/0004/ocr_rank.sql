-- aio.ocr_rank(tsv, q): revision 0004.
-- Replaces 0001/ocr_rank.sql; 0004's downgrade restores that one.
-- The current definition (head).

-- Words (A) and whole codes (B) far above code substrings (C) and character n-grams (D), so that a
-- document found by its words ranks above one found by pieces; longer documents are damped (log length).
-- Cover density costs more than linearly in the size of the query: a pasted page of text (hundreds of
-- query nodes) took seconds per hundred documents, so past 64 nodes the frequency rank orders instead.
CREATE OR REPLACE FUNCTION aio.ocr_rank(tsv tsvector, q tsquery) RETURNS real
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN numnode(q) <= 64 THEN ts_rank_cd('{0.01, 0.02, 0.4, 1.0}', tsv, q, 1)
              ELSE ts_rank('{0.01, 0.02, 0.4, 1.0}', tsv, q, 1) END
$$;
