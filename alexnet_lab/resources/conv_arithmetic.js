// The convolution-arithmetic widget (see alexnet_lab/conv_arithmetic.py).
// The page embeds, as JSON, a table of output sizes computed in Python by conv_output_size;
// this script only looks sizes up in it and draws. No external scripts, no network.
function convArithmetic(root) {
  "use strict";
  const D = JSON.parse(root.querySelector("script.ca-data").textContent);
  const R = D.ranges;
  const COLORS = {
    image: "#b9cde5",
    padding: "#ffffff",
    extra: "#ffd59a",
    unread: "rgba(214, 39, 40, 0.35)",
    grid: "#8a8a8a",
    window: "#d62728",
    done: "#6baed6",
  };
  const ZOOM = 32; // cells across the close-up, drawn when the padded input is larger
  const id = root.id;
  const state = Object.assign({ ceil: D.startCeil, index: 0, playing: false }, D.start);

  root.innerHTML = `
<style>
#${id} { font-size: 14px; line-height: 1.45; background: #fff; color: #222;
  border: 1px solid #ccc; border-radius: 6px; padding: 12px; max-width: 640px; }
#${id} button { font: inherit; padding: 2px 8px; margin: 2px; border: 1px solid #999;
  border-radius: 4px; background: #f4f4f4; color: #222; cursor: pointer; }
#${id} button:hover { background: #e4e4e4; }
#${id} .ca-controls { display: grid; grid-template-columns: 9em 1fr 4.5em; gap: 2px 10px;
  align-items: center; margin: 8px 0; }
#${id} .ca-controls input[type=range] { width: 100%; }
#${id} .ca-controls input[type=number] { width: 4.2em; }
#${id} .ca-formula { font-family: "DejaVu Serif", Georgia, serif; font-size: 15px; margin: 6px 0; }
#${id} .ca-warning { background: #fff3cd; border-left: 4px solid #e0a800; padding: 6px 10px;
  margin: 6px 0; }
#${id} .ca-views { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
#${id} .ca-views > * { flex: none; }
#${id} figure { margin: 0 0 10px; padding: 0; width: min-content; }
#${id} figcaption { font-size: 13px; color: #444; margin-top: 2px; text-align: left; }
#${id} .ca-player { display: flex; gap: 8px; align-items: center; margin: 8px 0 4px; }
#${id} .ca-player input[type=range] { flex: 1; }
#${id} .ca-status, #${id} .ca-legend { font-size: 13px; color: #444; }
#${id} .ca-swatch { display: inline-block; width: 11px; height: 11px; border: 1px solid #888;
  vertical-align: -1px; margin: 0 3px 0 10px; }
</style>
<div class="ca-presets">Presets: ${D.presets
    .map((p, i) => `<button type="button" data-preset="${i}">${p.label}</button>`)
    .join("")}</div>
<div class="ca-controls">
  <label for="${id}-size">input size <i>n</i></label>
  <input type="range" id="${id}-size" data-param="size" min="${R.size[0]}" max="${R.size[1]}">
  <input type="number" data-param="size" min="${R.size[0]}" max="${R.size[1]}" aria-label="input size">
  <label for="${id}-kernel">kernel size <i>k</i></label>
  <input type="range" id="${id}-kernel" data-param="kernel" min="${R.kernel[0]}" max="${R.kernel[1]}">
  <span class="ca-value" data-param="kernel"></span>
  <label for="${id}-stride">stride <i>s</i></label>
  <input type="range" id="${id}-stride" data-param="stride" min="${R.stride[0]}" max="${R.stride[1]}">
  <span class="ca-value" data-param="stride"></span>
  <label for="${id}-padding">padding <i>p</i></label>
  <input type="range" id="${id}-padding" data-param="padding" min="${R.padding[0]}" max="${R.padding[1]}">
  <span class="ca-value" data-param="padding"></span>
</div>
<label><input type="checkbox" class="ca-ceil"> round the output size up, as cuda-convnet does</label>
<div class="ca-formula"></div>
<div class="ca-warning" hidden></div>
<div class="ca-views">
  <figure><canvas class="ca-input"></canvas><figcaption class="ca-input-caption"></figcaption></figure>
  <div>
    <figure><canvas class="ca-output"></canvas><figcaption class="ca-output-caption"></figcaption></figure>
    <figure class="ca-zoom-figure"><canvas class="ca-zoom"></canvas><figcaption class="ca-zoom-caption"></figcaption></figure>
  </div>
</div>
<div class="ca-player">
  <button type="button" class="ca-play">Play</button>
  <input type="range" class="ca-index" min="0" value="0" aria-label="window">
</div>
<div class="ca-status"></div>
<div class="ca-legend"><span class="ca-swatch" style="background:${COLORS.image}"></span>input
<span class="ca-swatch" style="background:${COLORS.padding}"></span>padding zeros
<span class="ca-swatch" style="background:${COLORS.extra}"></span>extra zeros (rounding up)
<span class="ca-swatch" style="background:${COLORS.unread}"></span>read by no window
<span class="ca-swatch" style="background:none;border:2px solid ${COLORS.window}"></span>current window</div>`;

  const $ = (sel) => root.querySelector(sel);
  const inputs = root.querySelectorAll("input[data-param]");
  const ceilBox = $(".ca-ceil");
  const indexSlider = $(".ca-index");
  const playButton = $(".ca-play");
  const fmt = (x) => x.toLocaleString("en-US");

  // Output size from the Python table; 0 when the kernel is larger than the padded input.
  function outputSize(ceil) {
    const t = ceil ? D.ceil : D.floor;
    return t[state.kernel - R.kernel[0]][state.stride - R.stride[0]][state.padding - R.padding[0]][
      state.size - R.size[0]
    ];
  }

  // Everything the drawing needs, in padded-input coordinates.
  function layout() {
    const n = state.size, k = state.kernel, s = state.stride, p = state.padding;
    const padded = n + 2 * p;
    const out = outputSize(state.ceil);
    const reach = out > 0 ? (out - 1) * s + k : 0; // end of the last window
    return {
      n, k, s, p, padded, out, reach,
      floorOut: outputSize(false),
      ceilOut: outputSize(true),
      side: Math.max(padded, reach), // drawn grid, with extra zeros when rounding up
      total: out * out,
    };
  }

  function setupCanvas(canvas, cssSize) {
    const ratio = window.devicePixelRatio || 1;
    canvas.style.width = canvas.style.height = cssSize + "px";
    canvas.width = canvas.height = Math.round(cssSize * ratio);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    return ctx;
  }

  function gridLines(ctx, cells, cell) {
    if (cell < 5) return;
    ctx.strokeStyle = COLORS.grid;
    ctx.lineWidth = 0.5;
    ctx.beginPath();
    for (let i = 0; i <= cells; i++) {
      ctx.moveTo(i * cell, 0);
      ctx.lineTo(i * cell, cells * cell);
      ctx.moveTo(0, i * cell);
      ctx.lineTo(cells * cell, i * cell);
    }
    ctx.stroke();
  }

  // Draws the padded-input cells [r0, r0 + W) x [c0, c0 + W) onto a canvas at most maxPx wide,
  // with the current window (solid) and the one before it in the same row (dashed).
  function drawInput(canvas, L, r0, c0, W, maxPx) {
    const cell = Math.min(28, maxPx / W);
    const ctx = setupCanvas(canvas, Math.ceil(cell * W) + 1);
    const rect = (r, c, h, w) => {
      const y = Math.max(r, r0), x = Math.max(c, c0);
      const y1 = Math.min(r + h, r0 + W), x1 = Math.min(c + w, c0 + W);
      if (y1 > y && x1 > x) ctx.fillRect((x - c0) * cell, (y - r0) * cell, (x1 - x) * cell, (y1 - y) * cell);
    };
    ctx.fillStyle = COLORS.extra;
    rect(0, 0, L.side, L.side);
    ctx.fillStyle = COLORS.padding;
    rect(0, 0, L.padded, L.padded);
    ctx.fillStyle = COLORS.image;
    rect(L.p, L.p, L.n, L.n);
    if (L.out > 0 && L.reach < L.padded) {
      ctx.fillStyle = COLORS.unread;
      rect(L.reach, 0, L.padded - L.reach, L.padded);
      rect(0, L.reach, L.reach, L.padded - L.reach);
    }
    if (cell >= 5) {
      ctx.save();
      ctx.translate(-c0 * cell, -r0 * cell);
      ctx.beginPath();
      ctx.rect(c0 * cell, r0 * cell, W * cell, W * cell);
      ctx.clip();
      gridLines(ctx, L.side, cell);
      ctx.restore();
    }
    if (L.out === 0) return { cell };
    const row = Math.floor(state.index / L.out), col = state.index % L.out;
    const box = (r, c) => [(c - c0) * cell + 1, (r - r0) * cell + 1, L.k * cell - 2, L.k * cell - 2];
    ctx.strokeStyle = COLORS.window;
    ctx.lineWidth = 2;
    if (col > 0) {
      ctx.setLineDash([4, 3]);
      ctx.strokeRect(...box(row * L.s, (col - 1) * L.s));
      ctx.setLineDash([]);
    }
    ctx.fillStyle = "rgba(214, 39, 40, 0.18)";
    ctx.fillRect(...box(row * L.s, col * L.s));
    ctx.strokeRect(...box(row * L.s, col * L.s));
    return { cell, ctx };
  }

  // Large inputs: the whole grid, a frame where the close-up is, and the close-up itself.
  function drawInputs(L) {
    const overview = drawInput($(".ca-input"), L, 0, 0, L.side, 300);
    const zoom = L.side > ZOOM;
    $(".ca-zoom-figure").hidden = !zoom;
    if (!zoom || L.out === 0) return;
    const row = Math.floor(state.index / L.out), col = state.index % L.out;
    const clamp = (x) => Math.max(0, Math.min(L.side - ZOOM, x));
    const r0 = clamp(row * L.s + Math.floor(L.k / 2) - ZOOM / 2);
    const c0 = clamp(col * L.s + Math.floor(L.k / 2) - ZOOM / 2);
    drawInput($(".ca-zoom"), L, r0, c0, ZOOM, 220);
    const ctx = overview.ctx, cell = overview.cell;
    ctx.strokeStyle = "#222";
    ctx.lineWidth = 1;
    ctx.setLineDash([3, 2]);
    ctx.strokeRect(c0 * cell, r0 * cell, ZOOM * cell, ZOOM * cell);
    ctx.setLineDash([]);
    $(".ca-zoom-caption").textContent =
      `close-up: padded rows ${r0}\u2013${r0 + ZOOM - 1}, columns ${c0}\u2013${c0 + ZOOM - 1}`;
  }

  function drawOutput(L) {
    const cells = Math.max(L.out, 1);
    const cell = Math.min(28, 220 / cells);
    const ctx = setupCanvas($(".ca-output"), Math.ceil(cell * cells) + 1);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, cell * cells, cell * cells);
    if (L.out === 0) return;
    const row = Math.floor(state.index / L.out), col = state.index % L.out;
    ctx.fillStyle = COLORS.done;
    ctx.fillRect(0, 0, cell * L.out, cell * row);
    ctx.fillRect(0, cell * row, cell * col, cell);
    ctx.fillStyle = COLORS.window;
    ctx.fillRect(cell * col, cell * row, cell, cell);
    gridLines(ctx, L.out, cell);
    ctx.strokeStyle = "#444";
    ctx.lineWidth = 1;
    ctx.strokeRect(0.5, 0.5, cell * L.out, cell * L.out);
  }

  function formula(L) {
    const span = L.padded - L.k;
    const [open, close] = state.ceil ? ["\u2308", "\u2309"] : ["\u230a", "\u230b"];
    const q = span / L.s;
    const qText = Number.isInteger(q * 100) ? String(q) : "\u2248 " + q.toFixed(2);
    const result = L.out > 0 ? `<b>${L.out}</b>` : "<b>no output</b> (the kernel does not fit)";
    return (
      `<i>o</i> = ${open}(<i>n</i> + 2<i>p</i> \u2212 <i>k</i>) / <i>s</i>${close} + 1 = ` +
      `${open}(${L.n} + 2\u00b7${L.p} \u2212 ${L.k}) / ${L.s}${close} + 1 = ` +
      `${open}${span} / ${L.s}${close} + 1 = ${open}${qText}${close} + 1 = ${result}`
    );
  }

  function warning(L) {
    if (L.out === 0) {
      return `The kernel (${L.k}) is larger than the padded input (${L.padded}): no window fits.`;
    }
    if (L.floorOut === L.ceilOut) return "";
    const span = L.padded - L.k;
    const floorReach = (L.floorOut - 1) * L.s + L.k;
    const unread = L.padded - floorReach;
    const unreadImage = Math.max(0, unread - L.p);
    const extra = (L.ceilOut - 1) * L.s + L.k - L.padded;
    const lines = (m) => (m === 1 ? "row and column" : `${m} rows and columns`);
    const lost =
      unreadImage === 0
        ? "all of them padding zeros, so no input pixel is lost"
        : unreadImage === unread
          ? "all of them input pixels"
          : `${unreadImage} of them input pixels`;
    return (
      `<b>${span} is not a multiple of the stride ${L.s}</b>: the windows do not tile the ` +
      `padded input. Rounding down (PyTorch's default) gives ${L.floorOut} and never reads the ` +
      `last ${lines(unread)} (${lost}). Rounding up (cuda-convnet) gives ${L.ceilOut}: the last ` +
      `window hangs ${extra} zero${extra === 1 ? "" : "s"} over the right and bottom edge.`
    );
  }

  function draw() {
    const L = layout();
    state.index = Math.min(state.index, Math.max(L.total - 1, 0));
    drawInputs(L);
    drawOutput(L);
    indexSlider.max = Math.max(L.total - 1, 0);
    indexSlider.value = state.index;
    indexSlider.disabled = playButton.disabled = L.total === 0;
    $(".ca-formula").innerHTML = formula(L);
    const w = warning(L);
    $(".ca-warning").innerHTML = w;
    $(".ca-warning").hidden = w === "";
    const extra = L.side > L.padded ? ` + ${L.side - L.padded} extra zeros` : "";
    $(".ca-input-caption").textContent =
      `padded input: ${L.n} + 2\u00b7${L.p} = ${L.padded}${extra}; window ${L.k}\u00d7${L.k}`;
    $(".ca-output-caption").textContent = L.out > 0 ? `output: ${L.out}\u00d7${L.out}` : "output: none";
    $(".ca-output-caption").dataset.out = L.out;
    if (L.out > 0) {
      const row = Math.floor(state.index / L.out), col = state.index % L.out;
      const r0 = row * L.s, c0 = col * L.s;
      $(".ca-status").textContent =
        `window ${fmt(state.index + 1)} of ${fmt(L.total)}: output (${row}, ${col}) reads padded ` +
        `rows ${r0}\u2013${r0 + L.k - 1}, columns ${c0}\u2013${c0 + L.k - 1} (counted from 0)`;
    } else {
      $(".ca-status").textContent = "";
    }
    for (const el of inputs) el.value = state[el.dataset.param];
    for (const el of root.querySelectorAll(".ca-value")) el.textContent = state[el.dataset.param];
    ceilBox.checked = state.ceil;
    playButton.textContent = state.playing ? "Pause" : "Play";
  }

  // Changing the layer stops the animation and shows the last window: the full output.
  function setLayer(changes) {
    Object.assign(state, changes);
    state.playing = false;
    state.index = layout().total - 1;
    draw();
  }

  // One pass takes 0.3 s per window, at least 3 s and at most 12 s.
  let startTime = 0, startIndex = 0;
  function tick(now) {
    if (!state.playing) return;
    const total = layout().total;
    const duration = Math.min(12000, Math.max(3000, 300 * total));
    const index = startIndex + Math.floor(((now - startTime) / duration) * total);
    state.index = Math.min(index, total - 1);
    if (index >= total - 1) state.playing = false;
    draw();
    if (state.playing) window.requestAnimationFrame(tick);
  }

  playButton.addEventListener("click", () => {
    state.playing = !state.playing;
    if (state.playing) {
      if (state.index >= layout().total - 1) state.index = 0;
      startIndex = state.index;
      startTime = performance.now();
      window.requestAnimationFrame(tick);
    }
    draw();
  });
  indexSlider.addEventListener("input", () => {
    state.playing = false;
    state.index = Number(indexSlider.value);
    draw();
  });
  for (const el of inputs) {
    el.addEventListener("input", () => {
      const [lo, hi] = R[el.dataset.param];
      const v = Math.round(Number(el.value));
      if (Number.isFinite(v) && v >= lo && v <= hi) setLayer({ [el.dataset.param]: v });
    });
  }
  ceilBox.addEventListener("change", () => setLayer({ ceil: ceilBox.checked }));
  for (const b of root.querySelectorAll("button[data-preset]")) {
    b.addEventListener("click", () => {
      const p = D.presets[Number(b.dataset.preset)];
      setLayer({ size: p.size, kernel: p.kernel, stride: p.stride, padding: p.padding, ceil: p.ceil });
    });
  }
  setLayer({});
}
