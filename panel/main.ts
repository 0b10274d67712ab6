// SPDX-License-Identifier: AGPL-3.0-or-later
// Entry of the panel bundle (dist/panel/main.js): registers every <dp-*> element.
import './dp-app.js';
