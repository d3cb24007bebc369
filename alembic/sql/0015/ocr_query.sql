-- aio.ocr_query(q): revision 0015.
-- Replaces 0001/ocr_query.sql (made PARALLEL RESTRICTED by 0004); 0015's downgrade restores that one.
-- The current definition (head).
--
-- As in 0001, except that a term typed again is parsed once: A A is A, and -A -A is -A. A pasted text that
-- repeats itself (512 characters of one line) took 27 ms to parse and gave a query of 1071 nodes, which
-- every candidate photo was then checked against. Only in a query without OR: there a repeat may not be
-- redundant ((A | B) & A is not A | B).

-- Any user input to a tsquery, never an error: words (all required), "quoted phrases", OR between
-- terms, -exclusions; punctuation, emoji and stray operators are ignored. Nothing searchable: ''.
CREATE OR REPLACE FUNCTION aio.ocr_query(q text) RETURNS tsquery LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
AS $$
DECLARE
  m text[];
  term tsquery;
  positive tsquery;
  negative tsquery;
  pending_or boolean := false;
  cleaned text;
  has_or boolean;
  token text;
  seen text[] := '{}';
BEGIN
  -- Backslashes and control characters have no meaning here; a bounded length bounds the work.
  cleaned := regexp_replace(left(coalesce(q, ''), 512), '[\\[:cntrl:]]', ' ', 'g');
  has_or := cleaned ~ '(^|\s)OR(\s|$)';
  FOR m IN SELECT regexp_matches(cleaned, '(-?)"([^"]*)"?|(\S+)', 'g') LOOP
    IF m[3] IS NOT NULL AND m[3] = 'OR' THEN
      pending_or := positive IS NOT NULL;
      CONTINUE;
    END IF;
    token := coalesce(m[3], m[1] || '"' || m[2]);  -- as typed: a quoted phrase and the same words unquoted differ
    IF NOT has_or OR token ~ '^-' THEN  -- exclusions join by OR inside NOT: a repeat never changes them
      CONTINUE WHEN token = ANY (seen);
      seen := seen || token;
    END IF;
    IF m[3] IS NOT NULL AND m[3] ~ '^-.' THEN
      term := aio.term_query(substr(replace(m[3], '"', ''), 2), false);
      IF term IS NOT NULL AND numnode(term) > 0 THEN
        negative := CASE WHEN negative IS NULL THEN term ELSE negative || term END;
      END IF;
      CONTINUE;
    END IF;
    IF m[3] IS NOT NULL THEN
      term := aio.term_query(replace(m[3], '"', ''), false);
    ELSE
      term := aio.term_query(m[2], true);
      IF m[1] = '-' THEN
        IF term IS NOT NULL AND numnode(term) > 0 THEN
          negative := CASE WHEN negative IS NULL THEN term ELSE negative || term END;
        END IF;
        CONTINUE;
      END IF;
    END IF;
    IF term IS NULL OR numnode(term) = 0 THEN
      CONTINUE;
    END IF;
    IF positive IS NULL THEN
      positive := term;
    ELSIF pending_or THEN
      positive := positive || term;
    ELSE
      positive := positive && term;
    END IF;
    pending_or := false;
  END LOOP;
  IF positive IS NULL THEN
    RETURN ''::tsquery;  -- exclusions alone select nothing: a search needs something to look for
  END IF;
  IF negative IS NOT NULL THEN
    positive := positive && !!negative;
  END IF;
  RETURN positive;
EXCEPTION WHEN OTHERS THEN
  -- The contract is "never raises on user input"; the fuzz tests keep this path unused.
  RETURN ''::tsquery;
END
$$;
