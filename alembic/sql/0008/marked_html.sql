-- aio.marked_html(line, ranges): revision 0008.
-- The current definition (head).

-- A line and its matched ranges (aio.match_ranges) as HTML for clients that render the documented form: every
-- character escaped (& < > " '), the ranges in <b></b>. OCR text is untrusted input: nothing of it is markup.
CREATE FUNCTION aio.marked_html(line text, ranges jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT coalesce(string_agg(
           CASE WHEN x.i - 1 IN (SELECT (e ->> 0)::int FROM jsonb_array_elements(ranges) e) THEN '<b>' ELSE '' END
           || CASE x.c WHEN '&' THEN '&amp;' WHEN '<' THEN '&lt;' WHEN '>' THEN '&gt;' WHEN '"' THEN '&quot;'
                       WHEN '''' THEN '&#39;' ELSE x.c END
           || CASE WHEN x.i IN (SELECT (e ->> 1)::int FROM jsonb_array_elements(ranges) e) THEN '</b>' ELSE '' END,
           '' ORDER BY x.i), '')
  FROM regexp_split_to_table(line, '') WITH ORDINALITY AS x(c, i)
$$;
