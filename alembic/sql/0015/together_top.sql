-- aio.together_top(q): revision 0015.
-- Replaces 0012/together_top.sql; 0015's downgrade restores that one.
-- The current definition (head).
--
-- The photos among the top 200 rows of the list of the query's together_word (aio.search_plan) whose text holds
-- the run together as typed, in that list's order (rank, then photo): those aio.ocr_search ranks first. Empty
-- where the query holds nothing together. In 0012 it gave all 200 photos and aio.ocr_search checked each twice
-- while reading (once to rank it first, once to leave it out of the key word's list): at 1 000 000 photos 400
-- document checks, 5 ms of a 10 ms page. Now each is checked once, here.
-- IMMUTABLE as aio.search_plan, for the same reason: computed once while planning, a constant to the plan; and
-- cached for the transaction as aio.search_plan is, since the planner evaluates each of its three uses in
-- aio.ocr_search (200 document checks each time, without the cache).
CREATE OR REPLACE FUNCTION aio.together_top(q text) RETURNS uuid[]
LANGUAGE plpgsql IMMUTABLE PARALLEL RESTRICTED COST 40000
AS $$
DECLARE
  tag text := md5(coalesce(q, ''));
  cached text := current_setting('aio.together_top', true);
  top uuid[];
BEGIN
  IF left(cached, 32) = tag THEN
    RETURN substr(cached, 34)::uuid[];
  END IF;
  SELECT coalesce(array_agg(t.asset_id ORDER BY t.place), '{}') INTO top
  FROM (SELECT w.asset_id, row_number() OVER (ORDER BY w.rank DESC, w.asset_id) AS place FROM aio.ocr_word AS w
        WHERE (aio.search_plan(q)).together IS NOT NULL AND w.word = (aio.search_plan(q)).together_word
        ORDER BY w.rank DESC, w.asset_id LIMIT 200) AS t
  WHERE aio.ocr_document_matches(t.asset_id, (aio.search_plan(q)).together);
  PERFORM set_config('aio.together_top', tag || ' ' || top::text, true);
  RETURN top;
END
$$;
