-- aio.ocr_matching_assets(q): revision 0010.
-- The current definition (head).
--
-- The photos whose OCR text matches a user query, unranked: for the uses that need only the set (a count; an
-- OCR filter under another order, as smart search with an OCR field, or Immich v3's filter model). The same set
-- as aio.ocr_search(q), each photo once, and no rank computed: listed words joined by OR (aio.search_plan's
-- or_words) are every match's words as listed (0007), so their lists are read from the index alone; any other
-- query is one match of the documents' text index. (aio.ocr_search reads every match of such an OR in rank order
-- and checks each row by photo: 1.4 s and more for 20 common words at 100 000 photos.)
CREATE FUNCTION aio.ocr_matching_assets(q text) RETURNS TABLE(asset_id uuid)
LANGUAGE sql STABLE ROWS 1000 PARALLEL RESTRICTED
AS $$
  SELECT DISTINCT w.asset_id FROM aio.ocr_word AS w
  WHERE (aio.search_plan(q)).or_words IS NOT NULL AND w.word = ANY ((aio.search_plan(q)).or_words) AND w.is_word
  UNION ALL
  SELECT d.asset_id FROM aio.ocr_document AS d
  WHERE (aio.search_plan(q)).or_words IS NULL AND numnode((aio.search_plan(q)).query) > 0
    AND d.tsv @@ (aio.search_plan(q)).query
$$;
