-- aio.ocr_search(q), the function Immich's patch joins: revision 0012.
-- Replaces 0007/ocr_search.sql; 0012's downgrade restores that one.
-- Replaced by 0015/ocr_search.sql, whose downgrade restores this one.
--
-- As in 0007, with the photos that hold a run of several words together as typed (aio.search_plan's
-- `together`: 支付宝账单) ranked above those that hold the words apart (账单 … 支付宝), and in each group
-- the order as before. A together match ranks 1000 above its rank (ranks stay far below 1000: at most about
-- 5 for a photo that repeats a word a hundred times).
-- 1. to 3. the key word's list, as in 0007, without the together matches of branch 6;
-- 4. every match ranked by the whole query, +1000 where together (no list is read then), or the rest of a
--    split query, as in 0007, without the together matches of branch 6;
-- 5. listed words joined by OR, as in 0007 (such a query holds nothing together);
-- 6. the together matches among the top 200 rows of together_word's list (the run's rarest character pair;
--    aio.together_top), by that list's rank (x2.25 as in 3.), +1000.
-- The bound: PostgreSQL merges lists read in index order only where a branch's rank is the indexed column
-- itself; a rank +1000 is sorted, and a sort reads its whole branch, each row checked against the document
-- (15 us a row: 90 ms for a pair in 6 000 photos of 100 000). 200 rows sort in about 3 ms, and cover the
-- first page, where a search is judged; a together match beyond them keeps its place among the others.
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
          ORDER BY w.rank DESC, w.asset_id LIMIT cardinality(aio.together_top(q))) AS t
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
                               AND NOT (u.asset_id = ANY (aio.together_top(q))
                                        AND u.tsv @@ (aio.search_plan(q)).together)))
          WHEN 5 THEN (aio.search_plan(q)).or_words IS NOT NULL
          ELSE (aio.search_plan(q)).key_word IS NOT NULL AND (aio.search_plan(q)).together IS NOT NULL
        END
    AND CASE WHEN u.branch IN (4, 5) THEN true
             WHEN u.branch = 6 THEN aio.ocr_document_matches(u.asset_id, (aio.search_plan(q)).together)
             WHEN u.asset_id = ANY (aio.together_top(q))
               THEN aio.ocr_document_matches(u.asset_id,
                                             (aio.search_plan(q)).query && !!(aio.search_plan(q)).together)
             WHEN (aio.search_plan(q)).key_filter = 'words' THEN u.is_word
             WHEN (aio.search_plan(q)).key_filter = 'listed' THEN true
             ELSE aio.ocr_document_matches(u.asset_id, (aio.search_plan(q)).query) END
$$;
