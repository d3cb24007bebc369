-- aio.search_plan(q): revision 0012.
-- Replaces 0007/search_plan.sql; 0012's downgrade restores that one.
-- Replaced by 0015/search_plan.sql, whose downgrade restores this one.
--
-- As in 0007, with one step added before typed_plain: where the query holds a run typed as several words
-- (支付宝账单: 支付 宝 账单), `together` is the query with that run held together as typed, and together_word the
-- rarest of the run's character pairs, the list that aio.ocr_search reads the together matches from (the top of
-- it: aio.together_top).
-- The run's words ('支付':A & '宝':A & '账单':A) come in aio.ocr_query beside its character pairs in order
-- ('支付':D <-> '付宝':D <-> '宝账':D <-> '账单':D): a photo matches those pairs where its text holds the run as
-- typed. Each spelling of the run (aio.term_query) has its own pairs; together asks for any of them. Where the
-- query has several such runs (typed apart), or they share no pair, or it is an OR of terms, nothing is held
-- together.

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
  pairs text;
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
    SELECT array_agg(DISTINCT substr(t, 2, char_length(t) - 4)) INTO plan.or_words
      FROM regexp_split_to_table(plan.query::text, ' \| ') AS t;
    IF EXISTS (SELECT 1 FROM unnest(plan.or_words) AS w WHERE w !~ '^[一-鿿㐀-䶿豈-﫿぀-ヿ가-힯]{2,}$') THEN
      plan.or_words := NULL;
    END IF;
    IF cardinality(plan.or_words) > 32 THEN
      plan.or_words := NULL;
    END IF;
  END IF;
  IF plan.key_word IS NULL AND plan.or_words IS NULL THEN
    key := aio.split_word(plan.query);
    IF key IS NOT NULL THEN
      plan.rest := plan.query && tsquery_not(quote_literal(key)::tsquery);
      SELECT coalesce(array_agg(d.asset_id), '{}') INTO plan.rest_assets
        FROM (SELECT r.asset_id FROM aio.ocr_document AS r WHERE r.tsv @@ plan.rest LIMIT 1000 + 1) AS d;
      IF cardinality(plan.rest_assets) <= 1000 THEN
        plan.key_word := key;
        plan.key_filter := 'listed';
      ELSE
        plan.rest := NULL;
        plan.rest_assets := NULL;
      END IF;
    END IF;
  END IF;
  -- The runs looked for: ocr_query puts its exclusions last (positive & !negative), and only there is a `!`.
  SELECT string_agg(DISTINCT m[1], ' | ') INTO pairs
    FROM regexp_matches(CASE WHEN strpos(plan.query::text, '!') = 0 THEN plan.query::text
                             ELSE left(plan.query::text, strpos(plan.query::text, ' & !') - 1) END,
                        '(?:''[^'']+'':A & )+''[^'']+'':A \| (''[^'']+'':D(?: <-> ''[^'']+'':D)+)', 'g') AS m;
  IF pairs IS NOT NULL AND coalesce(q, '') !~ '(^|\s)OR(\s|$)' THEN  -- an OR of terms keeps its order
    plan.together_word := aio.key_word(pairs::tsquery);
    IF plan.together_word IS NOT NULL THEN
      plan.together := plan.query && pairs::tsquery;
    END IF;
  END IF;
  plan.typed_plain := lower(coalesce(q, '')) = aio.normalize(coalesce(q, ''));
  PERFORM set_config('aio.search_plan', tag || ' ' || plan::text, true);
  RETURN plan;
END
$$;
