/* Markers that crowd stay apart: markers closer than `size` pixels on the screen are spread on
 * a small circle around their common centre (the first at the top), so each can be read,
 * hovered and clicked. Each marker keeps its true place in `marker.home`; call again after a
 * zoom. Shared by the planning page (numbered stops) and the live page (units at one spot). */
window.gsSpread = function (map, markers, size) {
  "use strict";
  const placed = [];
  markers.forEach(function (m) {
    const p = map.latLngToLayerPoint(m.home);
    let group = placed.find(function (g) { return g.at.distanceTo(p) < size; });
    if (!group) { group = { at: p, members: [] }; placed.push(group); }
    group.members.push(m);
  });
  placed.forEach(function (g) {
    const n = g.members.length;
    g.members.forEach(function (m, i) {
      if (n === 1) { m.setLatLng(m.home); return; }
      const angle = (2 * Math.PI * i) / n - Math.PI / 2, r = size * 0.5 / Math.sin(Math.PI / Math.max(n, 2)) + 2;
      m.setLatLng(map.layerPointToLatLng(g.at.add(L.point(r * Math.cos(angle), r * Math.sin(angle)))));
    });
  });
};
