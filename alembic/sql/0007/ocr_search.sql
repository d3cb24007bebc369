-- aio.ocr_search(q), the function Immich's patch joins: revision 0007.
-- Replaces 0006/ocr_search.sql; 0007's downgrade restores that one.
-- Replaced by 0012/ocr_search.sql, whose downgrade restores this one.
--
-- As in 0006, with branch 5 read from aio.or_matches. The sub-select's ORDER BY keeps it apart: it is planned
-- (and aio.or_matches inlined) only where the branch's condition holds, that is for an OR of words.

-- As in 0006, except branch 5. As in 0005, except branch 4: it ranks every match where there is no key word,
-- as before, and the matches outside the list (rest) where the query was split; its `word` is the key word, so
-- that it is kept then.
-- 1. the key word's list, for a query typed plain;
-- 2. and 3. the same list in two parts, for a query typed otherwise: plain documents as listed, the
--    others x2.25 (exact forms x1.5 relative to them, every rank x1.5);
-- 4. every match ranked by the whole query, or the rest of a split query (x1.5 beside branches 2 and 3, which
--    give every rank x1.5);
-- 5. listed words joined by OR: each match by the best of its words, from their lists (aio.or_matches).
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
            * CASE WHEN (aio.search_plan(q)).rest IS NOT NULL AND NOT (aio.search_plan(q)).typed_plain
                   THEN 1.5 ELSE 1 END
            * aio.ocr_rank(d.tsv, (aio.search_plan(q)).query))::real,
           coalesce((aio.search_plan(q)).key_word, ''), d.plain, false, d.tsv
    FROM aio.ocr_document AS d
    UNION ALL
    SELECT 5, o.asset_id, o.rank, '', NULL, NULL, NULL
    FROM (SELECT m.asset_id, m.rank FROM aio.or_matches(q) AS m ORDER BY m.rank DESC) AS o
  ) AS u
  WHERE u.word = coalesce((aio.search_plan(q)).key_word, '')
    AND CASE u.branch
          WHEN 1 THEN (aio.search_plan(q)).typed_plain
          WHEN 2 THEN NOT (aio.search_plan(q)).typed_plain AND u.plain
          WHEN 3 THEN NOT (aio.search_plan(q)).typed_plain AND NOT u.plain
          WHEN 4 THEN (aio.search_plan(q)).or_words IS NULL AND numnode((aio.search_plan(q)).query) > 0
                      AND (((aio.search_plan(q)).key_word IS NULL AND u.tsv @@ (aio.search_plan(q)).query)
                           OR ((aio.search_plan(q)).rest IS NOT NULL
                               AND u.asset_id = ANY ((aio.search_plan(q)).rest_assets)
                               AND u.tsv @@ (aio.search_plan(q)).rest))
          ELSE (aio.search_plan(q)).or_words IS NOT NULL
        END
    AND CASE WHEN u.branch >= 4 THEN true
             WHEN (aio.search_plan(q)).key_filter = 'words' THEN u.is_word
             WHEN (aio.search_plan(q)).key_filter = 'listed' THEN true
             ELSE aio.ocr_document_matches(u.asset_id, (aio.search_plan(q)).query) END
$$;
