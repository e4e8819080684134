"""loa: weekly broadcast scheduling for commune loudspeaker systems."""
