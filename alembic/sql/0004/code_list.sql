-- aio.code_list(n, of_query): revision 0004.
-- The current definition (head).

-- Codes, numbers, dates and letter-spaced words of a normalised text, each as the letters and digits it
-- is made of.
-- A query's own list leaves out the integer parts, which are there for documents (8888 finds 8,888.00).
CREATE OR REPLACE FUNCTION aio.code_list(n text, of_query boolean DEFAULT false) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT coalesce(array_agg(code ORDER BY kind, ord), '{}')
  FROM (
    SELECT 1 AS kind, ord, regexp_replace(r.m[1], '[^0-9a-z]', '', 'g') AS code
    -- spaces inside codes: between digit groups (138 1234 5678), after a short letter prefix (沪C 7K321, SF 1234)
    FROM regexp_matches(regexp_replace(regexp_replace(coalesce(n, ''),
                                                      '(^|[^0-9a-z])([a-z]{1,3}) +(?=[0-9])', '\1\2', 'g'),
                                       '([0-9]) +(?=[0-9])', '\1', 'g'),
                        '([0-9a-z]+(?:[·・./:,_-][0-9a-z]+)*)', 'g') WITH ORDINALITY AS r(m, ord)
    WHERE r.m[1] ~ '[0-9]'
    UNION ALL  -- letter-spaced text, as OCR reads full-width or spaced-out signs: Wi F i, A B C 1 2 3 4, E X I T
    SELECT 4, ord, replace(r.m[1], ' ', '')
    FROM regexp_matches(coalesce(n, ''), '(?<![0-9a-z])([0-9a-z]{1,2}(?: [0-9a-z]{1,2}){2,})(?![0-9a-z])', 'g')
         WITH ORDINALITY AS r(m, ord)
    WHERE r.m[1] ~ '(^| )[0-9a-z]( |$)'
    UNION ALL  -- dates as yyyymmdd
    SELECT 2, ord, r.m[1] || lpad(r.m[2], 2, '0') || lpad(r.m[3], 2, '0')
    FROM regexp_matches(coalesce(n, ''), '(?<![0-9])([12][0-9]{3}) *[-./年] *([01]?[0-9]) *[-./月] *([0-3]?[0-9])日?(?![0-9])', 'g') WITH ORDINALITY AS r(m, ord)
    UNION ALL  -- amounts by their integer part: 8,888.00 -> 8888
    SELECT 3, ord, replace(r.m[1], ',', '')
    FROM regexp_matches(coalesce(n, ''), '(?<![0-9,.])([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)\.[0-9]+', 'g')
         WITH ORDINALITY AS r(m, ord)
    WHERE NOT of_query
  ) codes
  WHERE code <> ''
$$;
