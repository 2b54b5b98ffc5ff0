// Copies the UMD build of Chart.js from node_modules into vendor/ (gitignored), so that
// malpro serve answers it at /console/vendor/chart.umd.min.js from the city's own origin: the
// console loads nothing from a CDN. Run by `npm ci` (postinstall).
import {copyFileSync, mkdirSync, readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

const consoleDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const chartDir = join(consoleDir, 'node_modules', 'chart.js');
const vendorDir = join(consoleDir, 'vendor');
const version = JSON.parse(readFileSync(join(chartDir, 'package.json'), 'utf8')).version;
mkdirSync(vendorDir, {recursive: true});
copyFileSync(join(chartDir, 'dist', 'chart.umd.min.js'), join(vendorDir, 'chart.umd.min.js'));
copyFileSync(join(chartDir, 'LICENSE.md'), join(vendorDir, 'chart.js-LICENSE.md'));
console.log(`console: Chart.js ${version} copied to vendor/chart.umd.min.js`);
