-- aio.key_word(query): revision 0005.
-- Replaced by 0006/key_word.sql, whose downgrade restores this one.

-- A word that every match of the query contains, whichever alternative it matches, for the list to read;
-- the rarest of them. NULL where there is none, or where the query excludes words (a list cannot tell).
-- "Contains" is tested on a document made of the query's other words at every position: if the query
-- still matches it, the word is not needed.
CREATE OR REPLACE FUNCTION aio.key_word(query tsquery) RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
  shown text := query::text;
  bare tsquery;
  words text[];
  candidate text;
  others text;
  places text;
  common text[];
  shares real[];
  share real;
  best text;
  best_share real;
BEGIN
  IF query IS NULL OR numnode(query) = 0 OR strpos(shown, '!') > 0 OR aio.search_mode() <> 'zhparser' THEN
    RETURN NULL;
  END IF;
  bare := regexp_replace(shown, '(''(?:[^'']|'''')*''):[A-D*]+', '\1', 'g')::tsquery;  -- presence, any weight
  places := array_to_string(ARRAY(SELECT generate_series(1, least(numnode(query), 256))), ',');
  SELECT array_agg(DISTINCT replace(m[1], '''''', '''')) INTO words
    FROM regexp_matches(shown, '''((?:[^'']|'''')+)''', 'g') AS m;
  FOREACH candidate IN ARRAY words LOOP
    CONTINUE WHEN candidate !~ '^[一-鿿㐀-䶿豈-﫿぀-ヿ가-힯]{2,}$';
    SELECT string_agg(quote_literal(w) || ':' || places, ' ') INTO others FROM unnest(words) AS w WHERE w <> candidate;
    CONTINUE WHEN others IS NOT NULL AND others::tsvector @@ bare;
    IF best IS NOT NULL AND common IS NULL THEN  -- a second candidate: which is rarer
      SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs INTO common, shares
        FROM pg_stats AS s WHERE s.schemaname = 'aio' AND s.tablename = 'ocr_document' AND s.attname = 'tsv';
      best_share := coalesce(shares[array_position(common, best)], 0);
    END IF;
    share := coalesce(shares[array_position(common, candidate)], 0);  -- not among the common: rare
    IF best IS NULL OR share < best_share OR (share = best_share AND char_length(candidate) > char_length(best)) THEN
      best := candidate;
      best_share := share;
    END IF;
  END LOOP;
  RETURN best;
EXCEPTION WHEN OTHERS THEN
  -- never raises on user input (aio.ocr_query's contract): without a key word every match is ranked
  RETURN NULL;
END
$$;
