// Why each photo matched, in Chromium (tests/test_e2e.py, v3.1.0): driven by playwright-core like e2e_browser.mjs.
//   node e2e_matches.mjs <playwright-core dir> <immich url> <email> <password> <screenshot dir> <ids json>
// <ids json> maps the library's names to asset ids. OCR searches by URL (the search page's `query` parameter, as the
// search bar writes it), the hybrid one through the search bar; reads the DOM and its geometry, takes a screenshot of each step and prints a JSON summary
// for the test to assert on.
import { createRequire } from 'node:module';
import path from 'node:path';

const [playwrightDir, baseUrl, email, password, shots, idsJson] = process.argv.slice(2);
const ids = JSON.parse(idsJson);
const require = createRequire(import.meta.url);
const { chromium } = require(path.join(playwrightDir, 'playwright-core'));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});
const summary = { dialogs: [] };

// Each result of the grid: its id, its box and its thumbnail's, and what is drawn over it.
const readGrid = () =>
  [...document.querySelectorAll('[data-thumbnail-focus-container]')].map((thumb) => {
    let cell = thumb;
    while (cell.parentElement && cell.parentElement.style.position !== 'relative') {
      cell = cell.parentElement;
    }
    const rect = (el) => {
      const r = el.getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height, width: r.width };
    };
    const caption = cell.querySelector('[data-testid="match-caption"]');
    const label = cell.querySelector('[data-matched-by]');
    return {
      id: thumb.getAttribute('data-asset'),
      cell: rect(cell),
      thumb: rect(thumb),
      caption: caption && {
        text: caption.textContent,
        marks: [...caption.querySelectorAll('mark')].map((mark) => mark.textContent),
        elements: [...caption.querySelectorAll('*')].map((el) => el.tagName.toLowerCase()),
        rect: rect(caption.parentElement),
        visible: caption.checkVisibility({ opacityProperty: true, visibilityProperty: true }),
      },
      label: label && { by: label.getAttribute('data-matched-by'), text: label.textContent.trim() },
    };
  });

async function search(page, terms, name, count) {
  if (terms.query) {
    // a smart (hybrid) search as a user types it: the search bar picks the smart search once it knows it is on
    await page.goto(`${baseUrl}/photos`);
    const searchBar = page.locator('#main-search-bar');
    await searchBar.click();
    await searchBar.fill(terms.query);
    await searchBar.press('Enter');
    await page.waitForURL(/\/search/);
  } else {
    await page.goto(`${baseUrl}/search?query=${encodeURIComponent(JSON.stringify(terms))}`);
  }
  if (count > 0) {
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-thumbnail-focus-container]').length >= n,
      count,
    );
    await page.waitForFunction(() =>
      [...document.querySelectorAll('[data-thumbnail-focus-container] img')].every((img) => img.complete),
    );
    await page.waitForTimeout(500); // the fade-in
  } else {
    await page.getByText('No results', { exact: false }).first().waitFor();
  }
  await page.screenshot({ path: path.join(shots, name) });
  return page.evaluate(readGrid);
}

try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'en-US' });
  const page = await context.newPage();
  page.setDefaultTimeout(60_000);
  page.on('dialog', async (dialog) => {
    summary.dialogs.push(dialog.message()); // alert() from a payload would land here
    await dialog.dismiss();
  });

  await page.goto(`${baseUrl}/auth/login`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: 'Login' }).click();
  await page.waitForURL(/\/photos/);

  // A Traditional sign found by a Simplified query: its own line, the matched characters marked.
  summary.traditional = await search(page, { ocr: '图书馆' }, '4-caption-traditional.png', 1);
  // Keyboard: the caption is there while the thumbnail has the focus, no hover needed.
  await page.locator(`[data-thumbnail-focus-container][data-asset="${ids['sign-library-hant']}"]`).focus();
  summary.focused = await page.evaluate(readGrid);

  // The viewer opened from that search: the overlay on, the matched boxes lit, the others as Immich draws them.
  await page.locator(`[data-thumbnail-focus-container][data-asset="${ids['sign-library-hant']}"]`).click();
  await page.waitForSelector('#immich-asset-viewer');
  await page.waitForSelector('[data-testid="ocr-box"][data-matched="true"]');
  await page.waitForTimeout(500);
  summary.boxes = await page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="ocr-box"]')].map((box) => ({
      text: box.getAttribute('aria-label'),
      matched: box.getAttribute('data-matched') === 'true',
      border: getComputedStyle(box).borderTopColor,
      width: box.getBoundingClientRect().width,
    })),
  );
  await page.screenshot({ path: path.join(shots, '5-viewer-matched-boxes.png') });

  // Hybrid: every result says which list found it; a photo found by its picture alone has no caption.
  summary.hybrid = await search(page, { query: '火车票' }, '6-hybrid-labels.png', 3);

  // OCR text that reads like markup comes out as text: no element made, no script run.
  await page.evaluate(() => (window.aioXss = undefined));
  summary.payload = await search(page, { ocr: '停车场' }, '7-payload-inert.png', 1);
  summary.payloadRan = await page.evaluate(() => window.aioXss ?? null);
  summary.strayElements = await page.evaluate(
    () => document.querySelectorAll('img[src="x"], [data-testid="search-match"] script, [data-testid="search-match"] svg').length,
  );

  // A query of pure punctuation: the ordinary empty result.
  summary.punctuation = await search(page, { ocr: '！？。，、' }, '8-punctuation-empty.png', 0);

  // A short video found by the text in its frames.
  summary.video = await search(page, { ocr: '节目单' }, '9-video-caption.png', 1);

  // Phone width: the caption stays inside its photo.
  await page.setViewportSize({ width: 390, height: 844 });
  summary.phone = await search(page, { ocr: '图书馆' }, '10-caption-phone.png', 1);
} catch (error) {
  const page = browser.contexts()[0]?.pages()[0];
  if (page) {
    await page.screenshot({ path: path.join(shots, 'failure-matches.png') }).catch(() => {});
  }
  summary.error = String(error?.stack || error);
} finally {
  await browser.close();
}
console.log(JSON.stringify(summary));
process.exit(summary.error ? 1 : 0);
