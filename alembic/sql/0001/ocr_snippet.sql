-- aio.ocr_snippet(body, q): revision 0001.
-- Replaced by 0003/ocr_snippet.sql, whose downgrade restores this one.

CREATE OR REPLACE FUNCTION aio.ocr_snippet(body text, q tsquery) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
SET zhparser.multi_short = on
AS $$ SELECT ts_headline('aio.zh', body, q, 'MaxFragments=2, MaxWords=20, MinWords=5, StartSel=<b>, StopSel=</b>') $$;
