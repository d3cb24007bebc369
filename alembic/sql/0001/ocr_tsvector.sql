-- aio.ocr_tsvector(body): revision 0001.
-- Replaced by 0004/ocr_tsvector.sql, whose downgrade restores this one.

CREATE OR REPLACE FUNCTION aio.ocr_tsvector(body text) RETURNS tsvector
LANGUAGE sql STABLE PARALLEL SAFE
SET zhparser.multi_short = on
SET zhparser.punctuation_ignore = on
AS $$
  SELECT setweight(to_tsvector('aio.zh', coalesce(body, '')), 'A') || setweight(aio.cjk_ngrams(body), 'D')
$$;
