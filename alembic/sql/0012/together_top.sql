-- aio.together_top(q): revision 0012.
-- Replaced by 0015/together_top.sql, whose downgrade restores this one.
--
-- The photos of the top 200 rows of the list of the query's together_word (aio.search_plan), in that list's
-- order (rank, then photo): those aio.ocr_search checks for the run held together, and ranks first. Empty where
-- the query holds nothing together. Apart from aio.search_plan so that the planner, which reads the plan once
-- for each of its fields in aio.ocr_search, does not parse 200 photos each time.
-- IMMUTABLE as aio.search_plan, for the same reason: computed once while planning, a constant to the plan.
CREATE FUNCTION aio.together_top(q text) RETURNS uuid[]
LANGUAGE sql IMMUTABLE PARALLEL RESTRICTED COST 40000
AS $$
  SELECT coalesce(array_agg(t.asset_id), '{}')
  FROM (SELECT w.asset_id FROM aio.ocr_word AS w
        WHERE (aio.search_plan(q)).together IS NOT NULL AND w.word = (aio.search_plan(q)).together_word
        ORDER BY w.rank DESC, w.asset_id LIMIT 200) AS t
$$;
