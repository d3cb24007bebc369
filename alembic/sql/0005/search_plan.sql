-- aio.search_plan(q): revision 0005.
-- Replaced by 0006/search_plan.sql, whose downgrade restores this one.

-- A query parsed, with the list to read. key_filter says which of the key word's rows match the whole
-- query: 'words' (those listed as a word), 'listed' (all), or 'check' (each document is checked).
-- or_words: the words of a query that is listed words joined by OR (发票 OR 收据), which has no key word.
-- IMMUTABLE so that the planner computes it once, while planning, and sees the key word as a constant
-- with its statistics (how long its list is). It depends on the query text and on what the migrations
-- fixed (the normalisation tables, the dictionary). Only which of several key words is chosen follows the
-- statistics, and that changes speed, never results. Cached for the transaction: each branch of
-- aio.ocr_search asks for it.
-- COST: parsing a query takes about a millisecond. At its true price, a generic plan of a prepared
-- statement (Immich's driver prepares them), which would call it per row, never looks cheaper than the
-- custom plans, where it is computed once while planning.
CREATE OR REPLACE FUNCTION aio.search_plan(q text) RETURNS aio.search_plan
LANGUAGE plpgsql IMMUTABLE PARALLEL RESTRICTED COST 40000
AS $$
DECLARE
  tag text := md5(coalesce(q, ''));
  cached text := current_setting('aio.search_plan', true);
  plan aio.search_plan;
  key text;
BEGIN
  IF left(cached, 32) = tag THEN
    RETURN substr(cached, 34)::aio.search_plan;
  END IF;
  plan.query := aio.ocr_query(q);
  plan.key_word := aio.key_word(plan.query);
  key := quote_literal(plan.key_word);
  plan.key_filter := CASE WHEN plan.query::text = key || ':A' THEN 'words'
                          WHEN plan.query::text IN (key, key || ':D', key || ':AD') THEN 'listed'
                          ELSE 'check' END;
  IF plan.key_word IS NULL AND plan.query::text ~ '^''[^'']+'':A( \| ''[^'']+'':A)+$' THEN
    SELECT array_agg(substr(t, 2, char_length(t) - 4)) INTO plan.or_words
      FROM regexp_split_to_table(plan.query::text, ' \| ') AS t;
    IF EXISTS (SELECT 1 FROM unnest(plan.or_words) AS w WHERE w !~ '^[一-鿿㐀-䶿豈-﫿぀-ヿ가-힯]{2,}$') THEN
      plan.or_words := NULL;
    END IF;
  END IF;
  plan.typed_plain := lower(coalesce(q, '')) = aio.normalize(coalesce(q, ''));
  PERFORM set_config('aio.search_plan', tag || ' ' || plan::text, true);
  RETURN plan;
END
$$;
