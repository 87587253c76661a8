/* pydeck JSON layer specs (built in Python by layers/) -> deck.gl layers, with no @deck.gl/json.
 * Shared by the cockpit and the offline HTML exports (dashboards/export.py).
 */
(function () {
  "use strict";
  function convertLayer(spec, data) {
    const type = spec["@@type"];
    const props = {};
    for (const [key, value] of Object.entries(spec)) {
      if (key === "@@type") continue;
      if (typeof value === "string" && value.startsWith("@@=")) {
        // pydeck marks every string as an expression; only accessors (get*) read a field of the row
        const field = value.slice(3);
        props[key] = key.startsWith("get") ? (d) => d[field] : field;
      } else {
        props[key] = value;
      }
    }
    if (data !== undefined) props.data = data;
    return new deck[type](props);
  }

  // Bitmap layers carry their image as a data URL: decode it before the layer is made, since the
  // standalone deck.gl bundle does not fetch images itself.
  function loadImages(spec) {
    if (spec["@@type"] !== "BitmapLayer" || typeof spec.image !== "string") return Promise.resolve();
    if (spec.image.startsWith("@@=")) spec.image = spec.image.slice(3);
    return new Promise((resolve) => {
      const img = new Image();
      img.onload = () => { spec.image = img; resolve(); };
      img.onerror = () => { console.error("bathymetry image failed to decode"); delete spec.image; resolve(); };
      img.src = spec.image;
    });
  }

  window.twinDeckSpec = { convertLayer: convertLayer, loadImages: loadImages };
})();
