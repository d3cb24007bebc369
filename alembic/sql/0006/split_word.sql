-- aio.split_word(query): revision 0006.
-- The current definition (head).

-- For a query with no key word: a listed word of it such that every document containing the word matches
-- the query (for a code query, the code whole); of those, the most common (ANALYZE's element frequencies),
-- which leaves the fewest matches outside its list; then the longest. A document that holds only the word,
-- with each weight its list can hold, must match; without exclusions, more words never undo a match.
-- NULL if there is none.
CREATE FUNCTION aio.split_word(query tsquery) RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
  best text;
BEGIN
  IF query IS NULL OR numnode(query) = 0 OR strpos(query::text, '!') > 0 OR aio.search_mode() <> 'zhparser' THEN
    RETURN NULL;
  END IF;
  SELECT w INTO best
  FROM (SELECT DISTINCT replace(m[1], '''''', '''') AS w
        FROM regexp_matches(query::text, '''((?:[^'']|'''')+)''', 'g') AS m) AS words
  LEFT JOIN LATERAL (
    SELECT e.share
    FROM pg_stats AS s, unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS e(word, share)
    WHERE s.schemaname = 'aio' AND s.tablename = 'ocr_document' AND s.attname = 'tsv' AND e.word = w
  ) AS common ON true
  WHERE w ~ '(^[一-鿿㐀-䶿豈-﫿぀-ヿ가-힯]$)|(^[一-鿿㐀-䶿豈-﫿぀-ヿ가-힯]{2,}$)|(^[0-9a-z]{4,}$)'
    AND NOT EXISTS (
      SELECT 1 FROM unnest(CASE WHEN w ~ '^[0-9a-z]{4,}$' THEN '{A,B}'::text[]
                                WHEN char_length(w) <= 2 THEN '{A,D}'::text[] ELSE '{A}'::text[] END) AS weight
      WHERE NOT (quote_literal(w) || ':1' || weight)::tsvector @@ query)
  ORDER BY coalesce(common.share, 0) DESC, char_length(w) DESC, w
  LIMIT 1;
  RETURN best;
EXCEPTION WHEN OTHERS THEN
  RETURN NULL;  -- as aio.key_word: never raises; every match is then ranked
END
$$;
