/* kiemtra — starts the staff app once every screen file has registered. */
'use strict';

window.KT.start();
