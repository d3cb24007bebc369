-- aio.cjk_run_query(run, exact): revision 0001.
-- Replaced by 0005/cjk_run_query.sql, whose downgrade restores this one.
--
-- One CJK run of a query: a dictionary word matches words; anything else matches its words or its
-- exact character sequence (bigram phrase).

CREATE OR REPLACE FUNCTION aio.cjk_run_query(run text, exact boolean) RETURNS tsquery LANGUAGE plpgsql STABLE PARALLEL SAFE
SET zhparser.multi_short = off
SET zhparser.punctuation_ignore = on
AS $$
DECLARE
  grams tsquery;
  words tsquery;
  tokens text[];
BEGIN
  IF char_length(run) = 1 THEN
    RETURN (quote_literal(run) || ':AD')::tsquery;
  END IF;
  FOR i IN 1 .. char_length(run) - 1 LOOP
    grams := CASE WHEN grams IS NULL THEN (quote_literal(substr(run, i, 2)) || ':D')::tsquery
                  ELSE tsquery_phrase(grams, (quote_literal(substr(run, i, 2)) || ':D')::tsquery) END;
  END LOOP;
  IF aio.search_mode() <> 'zhparser' THEN
    RETURN grams;
  END IF;
  SELECT array_agg(lexemes[1] ORDER BY ordinality) INTO tokens
    FROM ts_debug('aio.zh', run) WITH ORDINALITY WHERE cardinality(lexemes) > 0;
  IF tokens IS NULL THEN
    RETURN grams;
  END IF;
  IF cardinality(tokens) = 1 AND tokens[1] = run THEN
    RETURN (quote_literal(run) || ':A')::tsquery;  -- a dictionary word: words only, no bigram coincidences
  END IF;
  SELECT string_agg(quote_literal(t) || ':A', ' & ')::tsquery INTO words FROM unnest(tokens) AS t;
  IF exact THEN
    RETURN words && grams;
  END IF;
  RETURN words || grams;
END
$$;
