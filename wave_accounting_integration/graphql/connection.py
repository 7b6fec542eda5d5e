"""Documents of the connection itself: which businesses, which user."""

BUSINESSES_QUERY = """
query WaveBusinesses($page: Int = 1, $pageSize: Int = 50) {
  businesses(page: $page, pageSize: $pageSize) {
    pageInfo { currentPage totalPages totalCount }
    edges { node { id name isPersonal isArchived isClassicAccounting currency { code } } }
  }
}
"""
BUSINESS_QUERY = """
query WaveConnectionCheck($businessId: ID!) {
  user { id }
  business(id: $businessId) { id name isClassicAccounting currency { code } }
}
"""
