/**
 * The map on the device page: Leaflet with the tile server from the settings (GET /api/me's
 * features.mapTiles). Loaded only when there is a position to show, in its own chunk with its CSS.
 * The marker is a CSS dot (no marker images to fetch); the page states the position as text too.
 */
import 'leaflet/dist/leaflet.css';
import L from 'leaflet';
import { useEffect, useRef } from 'preact/hooks';
import type { Position } from '../../../functions/core/api-types.ts';

interface DeviceMapProps {
  position: Position;
  tiles: { urlTemplate: string; attribution: string };
}

/** Leaflet takes attribution as HTML: the configured text is shown as text. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function DeviceMap({ position, tiles }: DeviceMapProps) {
  const ref = useRef<HTMLElement>(null);
  const mapRef = useRef<L.Map | null>(null);
  const layerRef = useRef<L.LayerGroup | null>(null);

  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const map = L.map(element, { scrollWheelZoom: false });
    L.tileLayer(tiles.urlTemplate, { attribution: escapeHtml(tiles.attribution), maxZoom: 19 }).addTo(map);
    mapRef.current = map;
    layerRef.current = L.layerGroup().addTo(map);
    return () => {
      map.remove();
      mapRef.current = null;
      layerRef.current = null;
    };
  }, [tiles.urlTemplate, tiles.attribution]);

  const { latitude, longitude, accuracy } = position;
  useEffect(() => {
    const map = mapRef.current;
    const layer = layerRef.current;
    if (!map || !layer) return;
    const at = L.latLng(latitude, longitude);
    layer.clearLayers();
    L.circle(at, { radius: accuracy, interactive: false, className: 'map-accuracy' }).addTo(layer);
    L.marker(at, {
      icon: L.divIcon({ className: 'map-pin', iconSize: [18, 18] }),
      interactive: false,
      keyboard: false,
    }).addTo(layer);
    map.setView(at, accuracy > 500 ? 13 : 16);
  }, [latitude, longitude, accuracy, tiles.urlTemplate]);

  return <section ref={ref} class="device-map" aria-label="Map of the device's last known position" />;
}
