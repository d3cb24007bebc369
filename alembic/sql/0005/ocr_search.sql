-- aio.ocr_search(q), the function Immich's patch joins: revision 0005.
-- Replaces 0004/ocr_search.sql; 0005's downgrade restores that one.
-- Replaced by 0006/ocr_search.sql, whose downgrade restores this one.

-- Four branches, of which the planner keeps one (the conditions are constants once aio.search_plan is):
-- 1. the key word's list, for a query typed plain;
-- 2. and 3. the same list in two parts, for a query typed otherwise: plain documents as listed, the
--    others x2.25 (exact forms x1.5 relative to them, every rank x1.5);
-- 4. no key word: every match ranked;
-- 5. listed words joined by OR: the sum of their ranks from their lists (cover density of an OR of
--    single words is the sum of theirs), without reading the documents.
-- Plain selects under a UNION ALL with the conditions outside, and the key word compared with `word` in
-- every branch, so that the planner reads a list in its index order and Immich's LIMIT stops the read.
CREATE OR REPLACE FUNCTION aio.ocr_search(q text)
RETURNS TABLE (asset_id uuid, rank real)
LANGUAGE sql STABLE PARALLEL RESTRICTED ROWS 100
AS $$
  SELECT u.asset_id, u.rank
  FROM (
    SELECT 1 AS branch, w.asset_id, w.rank, w.word, w.plain, w.is_word, NULL::tsvector AS tsv FROM aio.ocr_word AS w
    UNION ALL
    SELECT 2, w.asset_id, w.rank, w.word, w.plain, w.is_word, NULL FROM aio.ocr_word AS w
    UNION ALL
    SELECT 3, w.asset_id, w.rank * 2.25::real, w.word, w.plain, w.is_word, NULL FROM aio.ocr_word AS w
    UNION ALL
    SELECT 4, d.asset_id,
           (CASE WHEN d.plain = (aio.search_plan(q)).typed_plain THEN 1.5 ELSE 1 END
            * aio.ocr_rank(d.tsv, (aio.search_plan(q)).query))::real,
           '', d.plain, false, d.tsv
    FROM aio.ocr_document AS d
    UNION ALL
    SELECT 5, o.asset_id, o.rank, '', NULL, NULL, NULL
    FROM (
      SELECT w.asset_id,
             sum(CASE WHEN (aio.search_plan(q)).typed_plain THEN w.rank
                      WHEN w.plain THEN w.rank / 1.5 ELSE w.rank * 1.5 END)::real AS rank
      FROM aio.ocr_word AS w
      WHERE w.word = ANY ((aio.search_plan(q)).or_words) AND w.is_word
      GROUP BY w.asset_id
    ) AS o
  ) AS u
  WHERE u.word = coalesce((aio.search_plan(q)).key_word, '')
    AND CASE u.branch
          WHEN 1 THEN (aio.search_plan(q)).typed_plain
          WHEN 2 THEN NOT (aio.search_plan(q)).typed_plain AND u.plain
          WHEN 3 THEN NOT (aio.search_plan(q)).typed_plain AND NOT u.plain
          WHEN 4 THEN (aio.search_plan(q)).or_words IS NULL AND numnode((aio.search_plan(q)).query) > 0
                      AND u.tsv @@ (aio.search_plan(q)).query
          ELSE (aio.search_plan(q)).or_words IS NOT NULL
        END
    AND CASE WHEN u.branch >= 4 THEN true
             WHEN (aio.search_plan(q)).key_filter = 'words' THEN u.is_word
             WHEN (aio.search_plan(q)).key_filter = 'listed' THEN true
             ELSE aio.ocr_document_matches(u.asset_id, (aio.search_plan(q)).query) END
$$;
COMMENT ON FUNCTION aio.ocr_search(text) IS
  'OCR documents matching a user query (any input: words, "phrases", OR, -exclusions), normalised (Traditional '
  'and Simplified, full-width, codes), best first: read from the key word''s ordered list where the query has one';
