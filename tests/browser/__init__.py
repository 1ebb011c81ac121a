"""Real-browser journeys in headless Chromium (marker ``browser``)."""
