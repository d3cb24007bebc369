-- aio.cjk_run_query(run, exact): revision 0005.
-- Replaces 0001/cjk_run_query.sql; 0005's downgrade restores that one.
-- The current definition (head).

-- As in 0001, except that a run zhparser splits into single characters only (no dictionary word of
-- two characters or more: 拿铁) matches as the characters in a row, not as characters anywhere.
CREATE OR REPLACE FUNCTION aio.cjk_run_query(run text, exact boolean) RETURNS tsquery
LANGUAGE plpgsql STABLE PARALLEL SAFE
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
  IF tokens IS NULL OR (NOT exact AND (SELECT max(char_length(t)) FROM unnest(tokens) AS t) = 1) THEN
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
