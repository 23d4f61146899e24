{{ passing_rows('base_omb_reference__peer_city_spending', 'quarantine_omb_reference__peer_city_spending') }}
