-- aio.ocr_search(q), the function Immich's patch joins: revision 0015.
-- Replaces 0012/ocr_search.sql; 0015's downgrade restores that one.
-- The current definition (head).
--
-- As in 0012 (its branches 1. to 6., the same photos in the same order), except that aio.together_top now
-- gives only the photos that hold the run together (checked once, while planning): branch 6 keeps the top rows
-- that are among them, and the other branches leave them out, with no document check.
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
            * aio.ocr_rank(d.tsv, (aio.search_plan(q)).query)
            + CASE WHEN (aio.search_plan(q)).key_word IS NULL AND d.tsv @@ (aio.search_plan(q)).together
                   THEN 1000 ELSE 0 END)::real,
           coalesce((aio.search_plan(q)).key_word, ''), d.plain, false, d.tsv
    FROM aio.ocr_document AS d
    UNION ALL
    SELECT 5, o.asset_id, o.rank, '', NULL, NULL, NULL
    FROM (SELECT m.asset_id, m.rank FROM aio.or_matches(q) AS m ORDER BY m.rank DESC) AS o
    UNION ALL
    SELECT 6, t.asset_id,
           (CASE WHEN NOT (aio.search_plan(q)).typed_plain AND NOT t.plain THEN 2.25 ELSE 1 END * t.rank
            + 1000)::real,
           coalesce((aio.search_plan(q)).key_word, ''), t.plain, t.is_word, NULL
    FROM (SELECT w.asset_id, w.rank, w.plain, w.is_word FROM aio.ocr_word AS w
          WHERE w.word = (aio.search_plan(q)).together_word
          ORDER BY w.rank DESC, w.asset_id LIMIT 200) AS t
    WHERE t.asset_id = ANY (aio.together_top(q))
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
                               AND u.tsv @@ (aio.search_plan(q)).rest
                               AND NOT u.asset_id = ANY (aio.together_top(q))))
          WHEN 5 THEN (aio.search_plan(q)).or_words IS NOT NULL
          ELSE (aio.search_plan(q)).key_word IS NOT NULL AND (aio.search_plan(q)).together IS NOT NULL
        END
    AND CASE WHEN u.branch IN (4, 5) THEN true
             WHEN u.branch = 6 THEN true
             WHEN u.asset_id = ANY (aio.together_top(q)) THEN false
             WHEN (aio.search_plan(q)).key_filter = 'words' THEN u.is_word
             WHEN (aio.search_plan(q)).key_filter = 'listed' THEN true
             ELSE aio.ocr_document_matches(u.asset_id, (aio.search_plan(q)).query) END
$$;
